// Internal to the CLI: the fixed bootstrap port of `homeward dev-broker`.
//
// librdkafka 2.0.2's mock brokers listen on ephemeral ports that its API
// cannot choose. A BootstrapForwarder listens on 127.0.0.1:PORT and relays
// each connection byte for byte to the first mock broker. Kafka clients only
// bootstrap through it: the metadata they receive names the brokers' real
// addresses, and they connect to those directly. For trying Homeward out, not
// for load: each relay write blocks until the peer takes the bytes.
//
// Ownership: owns its sockets and one relay thread, stopped and joined by the
// destructor. Thread-safe to destroy from the thread that started it.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "events/error.h"

namespace homeward::connectors::cli {

class BootstrapForwarder {
 public:
  // `target` is a bootstrap list ("127.0.0.1:P1,127.0.0.1:P2"); the first
  // entry is relayed to. kUnavailable when PORT cannot be bound.
  [[nodiscard]] static Result<std::unique_ptr<BootstrapForwarder>> start(int port,
                                                                         const std::string& target);
  ~BootstrapForwarder();
  BootstrapForwarder(const BootstrapForwarder&) = delete;
  BootstrapForwarder& operator=(const BootstrapForwarder&) = delete;

  // "127.0.0.1:PORT".
  [[nodiscard]] const std::string& address() const { return address_; }

 private:
  BootstrapForwarder() = default;
  void run();

  int listen_fd_ = -1;
  int wake_read_fd_ = -1;
  int wake_write_fd_ = -1;
  int target_port_ = 0;
  std::string address_;
  std::thread thread_;
};

}  // namespace homeward::connectors::cli
