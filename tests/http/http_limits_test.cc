// Hostile clients of `homeward serve` over real TCP on 127.0.0.1: a 100 MB
// body, a 10 MB line, a client sending its request one byte at a time, and
// 1,000 idle connections. Each gets its problem document or is closed, and
// the server goes on serving everyone else. Loops are bounded in count; no
// assertion depends on how fast the machine is.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/http/support/http_client.h"
#include "tests/http/support/serve_process.h"
#include "tests/support/temp_dir.h"

namespace homeward {
namespace {

using testing::http_get;
using testing::http_post;

// A TCP connection to "127.0.0.1:PORT"; -1 on failure.
int connect_to(const std::string& address) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(address.find(':') + 1))));
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads what the server sends until it closes or `attempts` polls of 100 ms
// pass without data.
std::string read_until_closed(int fd, int attempts = 300) {
  std::string got;
  char buffer[4096];
  for (int i = 0; i < attempts; ++i) {
    pollfd entry{fd, POLLIN, 0};
    if (::poll(&entry, 1, 100) <= 0) continue;
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    got.append(buffer, static_cast<size_t>(n));
  }
  return got;
}

class HttpLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<testing::ServeProcess>(
        dir_.path() / "data", std::vector<std::string>{"--header-timeout-ms", "500"},
        dir_.path() / "serve.err");
    ASSERT_FALSE(server_->address().empty());
    ASSERT_TRUE(testing::wait_until_ready(server_->url("")));
  }
  void TearDown() override { EXPECT_EQ(server_->stop(SIGTERM), 0); }

  void expect_still_serving() { EXPECT_EQ(http_get(server_->url("/livez"), "/livez").status, 200); }

  testing::TempDir dir_;
  std::unique_ptr<testing::ServeProcess> server_;
};

TEST_F(HttpLimitsTest, ABodyOver16MiBIsAnswered413AndTheConnectionClosed) {
  const int fd = connect_to(server_->address());
  ASSERT_GE(fd, 0);
  const std::string head =
      "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
      "Content-Length: 104857600\r\n\r\n";
  ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  // Some of the 100 MB; the server answers from the length alone.
  const std::string chunk(64 << 10, 'x');
  for (int i = 0; i < 16; ++i) {
    if (::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) < 0) break;
  }
  const std::string answer = read_until_closed(fd);
  ::close(fd);
  EXPECT_NE(answer.find("HTTP/1.1 413"), std::string::npos) << answer.substr(0, 300);
  EXPECT_NE(answer.find("body-too-large"), std::string::npos);
  expect_still_serving();
}

TEST_F(HttpLimitsTest, ATenMegabyteLineIsRefusedWithItsNumber) {
  const std::string line =
      R"({"type":"CaseClosed","event_id":"e1","occurred_at":"2015-06-01T08:00:00Z","case_id":"c","reason":")" +
      std::string(10 << 20, 'a') + "\"}\n";
  const auto answer =
      http_post(server_->url("/v1/events"), line, "application/x-ndjson", "/v1/events");
  ASSERT_EQ(answer.status, 422) << answer.body.substr(0, 300);
  const auto body = answer.json();
  ASSERT_EQ(body["results"].size(), 1u);
  EXPECT_EQ(body["results"][0]["line"], 1);
  EXPECT_EQ(body["results"][0]["result"], "refused");
  EXPECT_LT(answer.body.size(), size_t{4096}) << "the refusal does not echo the line";
  expect_still_serving();
}

TEST_F(HttpLimitsTest, AClientSendingOneByteAtATimeIsClosedAtTheHeaderTimeout) {
  const int fd = connect_to(server_->address());
  ASSERT_GE(fd, 0);
  // A request head that never ends, one byte every 100 ms, at most 200
  // bytes: the server (header timeout 500 ms) closes the connection first.
  const std::string slow = "GET /livez HTTP/1.1\r\nX-Slow: " + std::string(200, 'a');
  bool closed = false;
  for (size_t i = 0; i < slow.size() && !closed; ++i) {
    if (::send(fd, &slow[i], 1, MSG_NOSIGNAL) < 0) {
      closed = true;
      break;
    }
    pollfd entry{fd, POLLIN, 0};
    if (::poll(&entry, 1, 100) > 0) {
      char c = 0;
      closed = ::recv(fd, &c, 1, 0) <= 0;
    }
    // Everyone else is served meanwhile.
    if (i == 3) expect_still_serving();
  }
  ::close(fd);
  EXPECT_TRUE(closed) << "the slow client held its connection for 20 s";
  expect_still_serving();
}

TEST_F(HttpLimitsTest, AThousandIdleConnectionsDoNotStopOtherClients) {
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur < 1200 && limit.rlim_max >= 1200) {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 4096);
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  std::vector<int> idle;
  for (int i = 0; i < 1000; ++i) {
    const int fd = connect_to(server_->address());
    ASSERT_GE(fd, 0) << "connection " << i;
    idle.push_back(fd);
  }
  expect_still_serving();
  const auto stats = http_get(server_->url("/v1/public/stats"), "/v1/public/stats");
  EXPECT_EQ(stats.status, 200);
  for (const int fd : idle) ::close(fd);
  expect_still_serving();
}

}  // namespace
}  // namespace homeward
