// Raw access to a closed projection store's RocksDB, for tests that damage
// or inspect records the way a disk fault or an edit by hand would. Keys go
// to the column family the store keeps them in (projections/store_internal.h).
#pragma once

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "projections/store_internal.h"

namespace homeward::testing {

class RawStore {
 public:
  explicit RawStore(const std::filesystem::path& dir) {
    rocksdb::DBOptions options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const char* name : projections::kFamilyNames) {
      families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    rocksdb::DB* raw = nullptr;
    const rocksdb::Status s = rocksdb::DB::Open(options, dir.string(), families, &handles_, &raw);
    EXPECT_TRUE(s.ok()) << s.ToString();
    db_.reset(raw);
  }
  ~RawStore() {
    for (rocksdb::ColumnFamilyHandle* handle : handles_) {
      EXPECT_TRUE(db_->DestroyColumnFamilyHandle(handle).ok());
    }
    EXPECT_TRUE(db_->Close().ok());
  }
  RawStore(const RawStore&) = delete;
  RawStore& operator=(const RawStore&) = delete;

  void put(const std::string& key, const std::string& value) {
    const rocksdb::Status s = db_->Put(rocksdb::WriteOptions(), family(key), key, value);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  std::optional<std::string> get(const std::string& key) {
    std::string value;
    const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), family(key), key, &value);
    if (s.IsNotFound()) return std::nullopt;
    EXPECT_TRUE(s.ok()) << s.ToString();
    return value;
  }
  void remove(const std::string& key) {
    const rocksdb::Status s = db_->Delete(rocksdb::WriteOptions(), family(key), key);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }

 private:
  rocksdb::ColumnFamilyHandle* family(const std::string& key) const {
    return handles_[static_cast<size_t>(projections::family_of(key))];
  }

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

}  // namespace homeward::testing
