// Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/NAME/) from
// the NDJSON examples: every example line of SPEC (spec_examples.ndjson) and
// every line of the demo (demo/pilot.ndjson). Run by `./run fuzz --seeds`
// whenever the wire form or a store encoding changes, so that the corpora stay
// in line with the code; the files are kept in the repository.
//
//   homeward_fuzz_seeds SPEC_NDJSON DEMO_NDJSON CORPUS_DIR
//
// ndjson/     each line as it is
// wire/       each event's FlatBuffers bytes
// values/     each amount (with its currency) and each timestamp of the lines
// projector/  the SPEC lines and the demo as one record sequence each
// record_codec/ the store's encodings of the demo's folded cases, their
//             rejections, totals, positions and keys
// Regression inputs (a crash once found) are named regression-* and are never
// written here: they are kept by hand.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "engine/case_ledger.h"
#include "engine/impact.h"
#include "engine/rules.h"
#include "events/codec.h"
#include "events/money.h"
#include "events/ndjson.h"
#include "projections/record_codec.h"

namespace fs = std::filesystem;
using namespace homeward;

namespace {

std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

void write(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + (dir / name).string());
}

// The projector target's raw record: 0xff, a 2-byte little-endian length, the bytes.
std::string raw_record(const std::string& value) {
  std::string out;
  out.push_back(static_cast<char>(0xff));
  out.push_back(static_cast<char>(value.size() & 0xff));
  out.push_back(static_cast<char>((value.size() >> 8) & 0xff));
  return out + value;
}

uint8_t currency_number(std::string_view code) {
  const auto all = events::all_currencies();
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].code_view() == code) return static_cast<uint8_t>(i);
  }
  throw std::runtime_error("unknown currency " + std::string(code));
}

void seed_set(const std::string& prefix, const std::vector<std::string>& lines,
              const fs::path& corpus, std::map<std::string, engine::CaseLedger>& ledgers,
              engine::ProjectionTotals& totals, std::vector<engine::RejectionRecord>& rejections) {
  std::string sequence(1, '\x03');  // projector options: batches of 4
  const std::regex amount(R"re("amount":"([^"]*)")re");
  const std::regex currency(R"re("currency":"([A-Z]{3})")re");
  const std::regex timestamp(R"re("occurred_at":"([^"]*)")re");
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string name = fmt::format("{}-{:03}", prefix, i + 1);
    const std::string& line = lines[i];
    write(corpus / "ndjson", name, line);
    auto event = events::parse_event_json(line);
    if (!event) throw std::runtime_error(name + " is refused: " + event.error().reason);
    const std::string wire = events::encode_event(*event);
    write(corpus / "wire", name, wire);
    sequence += raw_record(wire);

    std::smatch match;
    if (std::regex_search(line, match, timestamp)) {
      write(corpus / "values", name + "-timestamp", std::string(1, '\0') + match[1].str());
    }
    if (std::smatch code; std::regex_search(line, code, currency)) {
      int n = 0;
      for (auto it = std::sregex_iterator(line.begin(), line.end(), amount);
           it != std::sregex_iterator(); ++it) {
        std::string seed = {'\x01', static_cast<char>(currency_number(code[1].str()))};
        write(corpus / "values", fmt::format("{}-amount-{}", name, ++n), seed + (*it)[1].str());
      }
    }

    engine::CaseLedger& ledger = ledgers[event->case_id];
    ledger.case_id = event->case_id;
    const auto handled = engine::handle_event(ledger, *event);
    // A handful of seed events cannot fill an identifier table: a failure here
    // is a broken rule, and a seed corpus built past it would be wrong.
    if (!handled) throw std::runtime_error("handle_event: " + handled.error().message);
    const engine::Outcome outcome = *handled;
    totals.count(outcome);
    if (outcome.disposition == engine::Disposition::kRejected) {
      rejections.push_back({event->case_id, event->event_id, event->type(), outcome.reason,
                            Partition(0), Offset(static_cast<int64_t>(i)), ""});
    }
  }
  write(corpus / "projector", prefix, sequence);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: homeward_fuzz_seeds SPEC_NDJSON DEMO_NDJSON CORPUS_DIR\n";
    return 2;
  }
  try {
    const fs::path corpus = argv[3];
    std::map<std::string, engine::CaseLedger> ledgers;
    engine::ProjectionTotals totals;
    std::vector<engine::RejectionRecord> rejections;
    seed_set("spec", read_lines(argv[1]), corpus, ledgers, totals, rejections);
    seed_set("demo", read_lines(argv[2]), corpus, ledgers, totals, rejections);

    // record_codec: the first byte picks the decoder (fuzz_record_codec.cc).
    const fs::path codec = corpus / "record_codec";
    auto put = [&](char kind, const std::string& name, const std::string& bytes) {
      write(codec, name, std::string(1, kind) + bytes);
    };
    for (const auto& [case_id, ledger] : ledgers) {
      put('\0', "summary-" + case_id, projections::encode_summary(ledger.summary));
      put('\6', "history-key-" + case_id,
          projections::history_key(case_id, ledger.history_events - 1, Partition(2), Offset(77)));
    }
    // A rejection of each kind the demo has, and a malformed one without ids.
    rejections.push_back({"", "", std::nullopt, engine::RejectReason::kMalformed, Partition(1),
                          Offset(9), "the buffer does not verify"});
    for (size_t i = 0; i < rejections.size(); ++i) {
      put('\1', fmt::format("rejection-{}", i + 1), projections::encode_rejection(rejections[i]));
    }
    put('\2', "totals", projections::encode_totals(totals));
    engine::PartitionCheckpoint checkpoint{Offset(80), {}};
    for (size_t i = 0; i < checkpoint.chain_head.size(); ++i) {
      checkpoint.chain_head[i] = static_cast<uint8_t>(i * 7);
    }
    put('\3', "checkpoint", projections::encode_checkpoint(checkpoint));
    put('\4', "format", projections::encode_format_version(projections::kStoreFormatVersion));
    put('\5', "donor-count", projections::encode_donor_count(40));
    put('\7', "checkpoint-key", projections::checkpoint_key(Partition(3)));
    put('\x08', "chain-key", projections::chain_record_key(Partition(0), Offset(1024)));
    const std::string rejection_key =
        projections::rejection_key("case-2015-001", Partition(0), Offset(12));
    put('\x09', "rejection-key",
        std::string(1, static_cast<char>(1 + std::string("case-2015-001").size() + 1)) +
            rejection_key);
  } catch (const std::exception& error) {
    std::cerr << "homeward_fuzz_seeds: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
