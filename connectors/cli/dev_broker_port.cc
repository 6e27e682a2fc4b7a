#include "connectors/cli/dev_broker_port.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

namespace homeward::connectors::cli {
namespace {

constexpr size_t kRelayBufferBytes = 64 * 1024;

sockaddr_in loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  return address;
}

// Writes everything or fails (the peer closed).
bool send_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t sent = ::send(fd, data, size, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    data += sent;
    size -= static_cast<size_t>(sent);
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<BootstrapForwarder>> BootstrapForwarder::start(int port,
                                                                      const std::string& target) {
  // The first "host:port" of the list; the mock's hosts are always 127.0.0.1.
  const std::string first = target.substr(0, target.find(','));
  const size_t colon = first.rfind(':');
  int target_port = 0;
  if (colon == std::string::npos ||
      std::from_chars(first.data() + colon + 1, first.data() + first.size(), target_port).ec !=
          std::errc() ||
      target_port <= 0) {
    return make_error(ErrorCode::kInternal,
                      fmt::format("cannot read a port in the bootstrap list '{}'", target));
  }
  std::unique_ptr<BootstrapForwarder> forwarder(new BootstrapForwarder());
  forwarder->target_port_ = target_port;
  forwarder->listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (forwarder->listen_fd_ < 0) {
    return make_error(ErrorCode::kIo, fmt::format("socket: {}", std::strerror(errno)));
  }
  const int yes = 1;
  ::setsockopt(forwarder->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  const sockaddr_in address = loopback(port);
  if (::bind(forwarder->listen_fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) !=
          0 ||
      ::listen(forwarder->listen_fd_, 64) != 0) {
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("cannot listen on 127.0.0.1:{}: {}", port, std::strerror(errno)));
  }
  std::array<int, 2> wake{};
  if (::pipe2(wake.data(), O_CLOEXEC) != 0) {
    return make_error(ErrorCode::kIo, fmt::format("pipe: {}", std::strerror(errno)));
  }
  forwarder->wake_read_fd_ = wake[0];
  forwarder->wake_write_fd_ = wake[1];
  forwarder->address_ = fmt::format("127.0.0.1:{}", port);
  forwarder->thread_ = std::thread([raw = forwarder.get()] { raw->run(); });
  return forwarder;
}

BootstrapForwarder::~BootstrapForwarder() {
  if (thread_.joinable()) {
    const char byte = 0;
    // The relay thread wakes on this byte and returns; a failed write would
    // leave it blocked in poll(), so it is checked.
    if (::write(wake_write_fd_, &byte, 1) == 1) {
      thread_.join();
    } else {
      thread_.detach();
    }
  }
  for (int fd : {listen_fd_, wake_read_fd_, wake_write_fd_}) {
    if (fd >= 0) ::close(fd);
  }
}

void BootstrapForwarder::run() {
  // Each relayed connection is a pair; both ends close together.
  std::vector<std::pair<int, int>> pairs;
  std::vector<char> buffer(kRelayBufferBytes);
  for (;;) {
    std::vector<pollfd> fds;
    fds.push_back({wake_read_fd_, POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    for (const auto& [client, upstream] : pairs) {
      fds.push_back({client, POLLIN, 0});
      fds.push_back({upstream, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("dev-broker port: poll: {}", std::strerror(errno));
      break;
    }
    if (fds[0].revents != 0) break;
    // Pairs accepted below were not polled this round.
    const size_t polled = pairs.size();
    if ((fds[1].revents & POLLIN) != 0) {
      const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        const int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const sockaddr_in target = loopback(target_port_);
        if (upstream >= 0 &&
            ::connect(upstream, reinterpret_cast<const sockaddr*>(&target), sizeof(target)) == 0) {
          pairs.emplace_back(client, upstream);
        } else {
          spdlog::warn("dev-broker port: cannot reach the broker at 127.0.0.1:{}: {}", target_port_,
                       std::strerror(errno));
          if (upstream >= 0) ::close(upstream);
          ::close(client);
        }
      }
    }
    std::vector<std::pair<int, int>> open;
    for (size_t i = 0; i < pairs.size(); ++i) {
      if (i >= polled) {
        open.push_back(pairs[i]);
        continue;
      }
      const auto [client, upstream] = pairs[i];
      bool alive = true;
      for (int side = 0; side < 2 && alive; ++side) {
        const pollfd& entry = fds[2 + 2 * i + static_cast<size_t>(side)];
        if (entry.revents == 0) continue;
        const int from = side == 0 ? client : upstream;
        const int to = side == 0 ? upstream : client;
        const ssize_t got = ::recv(from, buffer.data(), buffer.size(), 0);
        alive = got > 0 && send_all(to, buffer.data(), static_cast<size_t>(got));
      }
      if (alive) {
        open.emplace_back(client, upstream);
      } else {
        ::close(client);
        ::close(upstream);
      }
    }
    pairs = std::move(open);
  }
  for (const auto& [client, upstream] : pairs) {
    ::close(client);
    ::close(upstream);
  }
}

}  // namespace homeward::connectors::cli
