// homeward-read-latency: the latency of one case's figures, in-process, on a
// populated projection store (the "reads" row of bench/run_benchmarks.sh).
//
//   homeward-read-latency --store DIR [--samples N] [--seed S]
//
// Opens the RocksProjectionStore in DIR (a `homeward --data D` run keeps it in
// D/projections), lists the opened cases, then times N calls (default
// 100,000) of RocksProjectionStore::find_case on case ids drawn uniformly at
// random (std::mt19937_64 seeded with S, default 1) with steady_clock around
// each call, after 1,000 untimed warm-up calls. Also times one
// impact_report() (SPEC section 6 over every case) in-process. Prints one
// JSON object on standard output:
//
//   {"cases":..,"samples":..,"p50_ns":..,"p90_ns":..,"p99_ns":..,"max_ns":..,
//    "mean_ns":..,"impact_report_ms":..}
//
// Exit codes: 0 done, 1 the store cannot be read or has no opened case,
// 2 bad arguments.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "projections/rocksdb_store.h"

namespace {

int usage() {
  std::fprintf(stderr, "usage: homeward-read-latency --store DIR [--samples N] [--seed S]\n");
  return 2;
}

bool parse_count(const char* text, int64_t& out) {
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || value < 1) return false;
  out = value;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string store_dir;
  int64_t samples = 100'000;
  int64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    if (i + 1 >= argc) return usage();
    if (arg == "--store") {
      store_dir = argv[++i];
    } else if (arg == "--samples") {
      if (!parse_count(argv[++i], samples)) return usage();
    } else if (arg == "--seed") {
      if (!parse_count(argv[++i], seed)) return usage();
    } else {
      return usage();
    }
  }
  if (store_dir.empty()) return usage();

  auto store = homeward::projections::RocksProjectionStore::open(store_dir);
  if (!store) {
    fmt::print(stderr, "homeward-read-latency: {}\n", store.error().message);
    return 1;
  }
  auto cases = (*store)->list_cases();
  if (!cases) {
    fmt::print(stderr, "homeward-read-latency: {}\n", cases.error().message);
    return 1;
  }
  if (cases->empty()) {
    fmt::print(stderr, "homeward-read-latency: the store in {} has no opened case\n", store_dir);
    return 1;
  }
  std::vector<std::string> ids;
  ids.reserve(cases->size());
  for (const auto& view : *cases) ids.push_back(view.case_id);
  cases->clear();

  std::mt19937_64 random(static_cast<uint64_t>(seed));
  auto pick = [&]() -> const std::string& { return ids[random() % ids.size()]; };
  using Clock = std::chrono::steady_clock;

  // Warm-up: the first reads pull index and filter blocks into the cache.
  for (int i = 0; i < 1'000; ++i) {
    auto found = (*store)->find_case(pick());
    if (!found || !found->has_value()) {
      fmt::print(stderr, "homeward-read-latency: find_case failed on a listed case\n");
      return 1;
    }
  }
  std::vector<int64_t> nanos;
  nanos.reserve(static_cast<size_t>(samples));
  for (int64_t i = 0; i < samples; ++i) {
    const std::string& id = pick();
    const auto start = Clock::now();
    auto found = (*store)->find_case(id);
    const auto end = Clock::now();
    if (!found || !found->has_value()) {
      fmt::print(stderr, "homeward-read-latency: find_case failed on listed case {}\n", id);
      return 1;
    }
    nanos.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
  }
  std::sort(nanos.begin(), nanos.end());
  auto quantile = [&](double q) {
    const auto index = static_cast<size_t>(q * static_cast<double>(nanos.size() - 1));
    return nanos[index];
  };
  double sum = 0;
  for (int64_t n : nanos) sum += static_cast<double>(n);

  const auto report_start = Clock::now();
  auto report = (*store)->impact_report();
  const auto report_end = Clock::now();
  if (!report) {
    fmt::print(stderr, "homeward-read-latency: {}\n", report.error().message);
    return 1;
  }
  const double report_ms =
      std::chrono::duration<double, std::milli>(report_end - report_start).count();

  fmt::print(
      "{{\"cases\":{},\"samples\":{},\"p50_ns\":{},\"p90_ns\":{},\"p99_ns\":{},\"max_ns\":{},"
      "\"mean_ns\":{:.0f},\"impact_report_ms\":{:.1f}}}\n",
      ids.size(), samples, quantile(0.50), quantile(0.90), quantile(0.99), nanos.back(),
      sum / static_cast<double>(nanos.size()), report_ms);
  return 0;
}
