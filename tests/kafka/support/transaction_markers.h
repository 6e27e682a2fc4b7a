// Test support: writes Kafka transaction markers (control batches) into a
// partition, as a real broker's transaction coordinator does when a
// transaction commits or aborts.
//
// librdkafka 2.0.2's mock cluster runs the transactional producer's protocol
// (InitProducerId, AddPartitionsToTxn, EndTxn) but writes no markers: its
// EndTxn only answers. A real topic written by transactional producers has a
// marker after every transaction in each partition it touched, and those
// offsets hold no record for a consumer. So the tests append the marker the
// broker would have written, with a plain Produce request (v3) over TCP that
// carries one RecordBatch v2 with the control attribute; the mock stores
// such bytes as they are and consumers parse them as a real broker's.
//
// Test-only, header-only; one blocking request per call, on loopback.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <string>

#include "events/error.h"

namespace homeward::testing {

enum class MarkerType : int16_t { kAbort = 0, kCommit = 1 };

namespace marker_detail {

// CRC-32C (Castagnoli), as RecordBatch v2 checksums use.
inline uint32_t crc32c(const std::string& bytes) {
  static const std::array<uint32_t, 256> kTable = [] {
    std::array<uint32_t, 256> table{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1U) != 0 ? (c >> 1) ^ 0x82F63B78U : c >> 1;
      table[i] = c;
    }
    return table;
  }();
  uint32_t crc = 0xFFFFFFFFU;
  for (const char ch : bytes) {
    crc = kTable[(crc ^ static_cast<uint8_t>(ch)) & 0xFFU] ^ (crc >> 8);
  }
  return crc ^ 0xFFFFFFFFU;
}

class Writer {
 public:
  std::string bytes;
  void i8(int8_t v) { bytes.push_back(static_cast<char>(v)); }
  void i16(int16_t v) { be(static_cast<uint64_t>(static_cast<uint16_t>(v)), 2); }
  void i32(int32_t v) { be(static_cast<uint64_t>(static_cast<uint32_t>(v)), 4); }
  void i64(int64_t v) { be(static_cast<uint64_t>(v), 8); }
  void string(const std::string& s) {
    i16(static_cast<int16_t>(s.size()));
    bytes += s;
  }
  // Zigzag varint (record fields).
  void varint(int64_t v) {
    auto z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
    while (z >= 0x80U) {
      bytes.push_back(static_cast<char>((z & 0x7FU) | 0x80U));
      z >>= 7;
    }
    bytes.push_back(static_cast<char>(z));
  }

 private:
  void be(uint64_t v, int size) {
    for (int i = size - 1; i >= 0; --i) bytes.push_back(static_cast<char>((v >> (8 * i)) & 0xFFU));
  }
};

// One control batch holding one control record of `type`.
inline std::string control_batch(MarkerType type, int64_t producer_id, int16_t producer_epoch) {
  Writer key;
  key.i16(0);  // control record version
  key.i16(static_cast<int16_t>(type));
  Writer value;
  value.i16(0);  // version
  value.i32(0);  // coordinator epoch

  Writer record_body;
  record_body.i8(0);      // attributes
  record_body.varint(0);  // timestamp delta
  record_body.varint(0);  // offset delta
  record_body.varint(static_cast<int64_t>(key.bytes.size()));
  record_body.bytes += key.bytes;
  record_body.varint(static_cast<int64_t>(value.bytes.size()));
  record_body.bytes += value.bytes;
  record_body.varint(0);  // headers
  Writer record;
  record.varint(static_cast<int64_t>(record_body.bytes.size()));
  record.bytes += record_body.bytes;

  // From attributes to the end: what the CRC covers.
  constexpr int16_t kTransactional = 0x10;
  constexpr int16_t kControl = 0x20;
  Writer tail;
  tail.i16(kTransactional | kControl);
  tail.i32(0);  // last offset delta
  tail.i64(0);  // base timestamp
  tail.i64(0);  // max timestamp
  tail.i64(producer_id);
  tail.i16(producer_epoch);
  tail.i32(-1);  // base sequence
  tail.i32(1);   // records
  tail.bytes += record.bytes;

  Writer batch;
  batch.i64(0);  // base offset: the broker assigns it
  batch.i32(static_cast<int32_t>(4 + 1 + 4 + tail.bytes.size()));
  batch.i32(-1);  // partition leader epoch
  batch.i8(2);    // magic
  batch.i32(static_cast<int32_t>(crc32c(tail.bytes)));
  batch.bytes += tail.bytes;
  return batch.bytes;
}

inline bool send_all(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

inline bool receive(int fd, char* into, size_t size) {
  size_t got = 0;
  while (got < size) {
    pollfd entry{fd, POLLIN, 0};
    if (::poll(&entry, 1, 10'000) <= 0) return false;  // bounded: 10 s per read
    const ssize_t n = ::recv(fd, into + got, size - got, 0);
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

inline int64_t read_be(const std::string& bytes, size_t at, int size) {
  uint64_t v = 0;
  for (int i = 0; i < size; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[at + i]);
  if (size == 2) return static_cast<int16_t>(v);
  if (size == 4) return static_cast<int32_t>(v);
  return static_cast<int64_t>(v);
}

}  // namespace marker_detail

// Appends a `type` marker to `topic` partition `partition` at the broker
// `host_port` (127.0.0.1:PORT, the partition's leader); its offset, or why not.
inline Result<int64_t> write_transaction_marker(const std::string& host_port,
                                                const std::string& topic, int32_t partition,
                                                MarkerType type, int64_t producer_id = 1000,
                                                int16_t producer_epoch = 0) {
  using marker_detail::Writer;
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos || host_port.substr(0, colon) != "127.0.0.1") {
    return make_error(ErrorCode::kInvalidArgument, "only 127.0.0.1:PORT brokers: " + host_port);
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1))));
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return make_error(ErrorCode::kIo, "socket() failed");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return make_error(ErrorCode::kUnavailable, "cannot connect to " + host_port);
  }

  const std::string batch = marker_detail::control_batch(type, producer_id, producer_epoch);
  constexpr int32_t kCorrelationId = 7;
  Writer request;
  request.i16(0);  // Produce
  request.i16(3);  // version 3: RecordBatch v2
  request.i32(kCorrelationId);
  request.string("homeward-test-markers");
  request.i16(-1);      // transactional id: null
  request.i16(-1);      // acks=all
  request.i32(10'000);  // timeout
  request.i32(1);       // topics
  request.string(topic);
  request.i32(1);  // partitions
  request.i32(partition);
  request.i32(static_cast<int32_t>(batch.size()));
  request.bytes += batch;
  Writer framed;
  framed.i32(static_cast<int32_t>(request.bytes.size()));
  framed.bytes += request.bytes;
  if (!marker_detail::send_all(fd, framed.bytes)) {
    return make_error(ErrorCode::kIo, "sending the Produce request failed");
  }

  std::array<char, 4> size_bytes{};
  if (!marker_detail::receive(fd, size_bytes.data(), size_bytes.size())) {
    return make_error(ErrorCode::kIo, "no Produce response");
  }
  const auto size = static_cast<size_t>(
      marker_detail::read_be(std::string(size_bytes.data(), size_bytes.size()), 0, 4));
  if (size > (1U << 20)) return make_error(ErrorCode::kIo, "Produce response too large");
  std::string response(size, '\0');
  if (!marker_detail::receive(fd, response.data(), size)) {
    return make_error(ErrorCode::kIo, "Produce response cut short");
  }
  // correlation id, topics[1]: name, partitions[1]: partition, error, base
  // offset, log append time; throttle time.
  size_t at = 0;
  if (marker_detail::read_be(response, at, 4) != kCorrelationId) {
    return make_error(ErrorCode::kIo, "Produce response for another request");
  }
  at += 4 + 4;  // correlation id, topic count
  at += 2 + static_cast<size_t>(marker_detail::read_be(response, at, 2));
  at += 4 + 4;  // partition count, partition
  const int64_t error = marker_detail::read_be(response, at, 2);
  at += 2;
  if (error != 0) {
    return make_error(ErrorCode::kIo,
                      "the broker refused the marker: error code " + std::to_string(error));
  }
  return marker_detail::read_be(response, at, 8);
}

}  // namespace homeward::testing
