// Damage done to the files of a RocksDB database on purpose, for the tests
// of what Homeward does with a damaged log or store: find a table file, flip
// one byte of it. Header-only; test code.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace homeward::testing {

// The largest table file (.sst) in `dir`, or an empty path when there is none.
inline std::filesystem::path largest_table_file(const std::filesystem::path& dir) {
  std::filesystem::path found;
  std::uintmax_t size = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".sst" && entry.file_size() > size) {
      size = entry.file_size();
      found = entry.path();
    }
  }
  return found;
}

// Flips the bits of `mask` in the byte at `offset` of `file`.
inline void flip_byte(const std::filesystem::path& file, std::uintmax_t offset,
                      unsigned char mask = 0x5a) {
  ASSERT_LT(offset, std::filesystem::file_size(file)) << file;
  std::fstream stream(file, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(stream.good()) << file;
  stream.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  stream.read(&byte, 1);
  byte = static_cast<char>(static_cast<unsigned char>(byte) ^ mask);
  stream.seekp(static_cast<std::streamoff>(offset));
  stream.write(&byte, 1);
  ASSERT_TRUE(stream.good()) << file;
}

}  // namespace homeward::testing
