// Input streams that misbehave as real ones do, for tests of the readers of
// NDJSON input (events::LineReader, engine::Publisher, `homeward publish`).
#pragma once

#include <cstddef>
#include <ios>
#include <streambuf>
#include <string>
#include <utility>

namespace homeward::testing {

// `prefix`, then every read fails with an I/O error ("disk on fire").
class FailingAfter : public std::streambuf {
 public:
  explicit FailingAfter(std::string prefix) : prefix_(std::move(prefix)) {
    setg(prefix_.data(), prefix_.data(), prefix_.data() + prefix_.size());
  }

 protected:
  int_type underflow() override { throw std::ios_base::failure("disk on fire"); }

 private:
  std::string prefix_;
};

// `prefix`, then endless zero bytes without a newline, as /dev/zero gives.
// `given` counts the zero bytes handed out.
class EndlessZeros : public std::streambuf {
 public:
  explicit EndlessZeros(std::string prefix = {}) : prefix_(std::move(prefix)) {
    setg(prefix_.data(), prefix_.data(), prefix_.data() + prefix_.size());
  }
  size_t given = 0;

 protected:
  int_type underflow() override {
    setg(block_, block_, block_ + sizeof block_);
    given += sizeof block_;
    return traits_type::to_int_type(block_[0]);
  }

 private:
  std::string prefix_;
  char block_[4096] = {};
};

}  // namespace homeward::testing
