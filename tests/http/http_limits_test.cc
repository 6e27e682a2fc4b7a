// Hostile clients of `homeward serve` over real TCP on 127.0.0.1: a 100 MB
// body (with a length, or chunked without one), a 10 MB line, bad JSON and
// invalid UTF-8, a client sending its request one byte a second (on a new
// connection and on a kept-alive one), and 1,000 idle connections. Each gets its problem document
// or is closed, and the server goes on serving everyone else. Loops are bounded in count; no
// assertion depends on how fast the machine is.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <functional>
#include <string>
#include <vector>

#include <fmt/core.h>
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
        dir_.path() / "data", std::vector<std::string>{"--header-timeout-ms", "2000"},
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

// Sends `text` one byte a second (at most 20 bytes, so 20 s), reading
// meanwhile; true once the server closed the connection.
bool closed_while_sending_a_byte_a_second(int fd, const std::string& text,
                                          const std::function<void()>& meanwhile) {
  for (size_t i = 0; i < text.size() && i < 20; ++i) {
    if (::send(fd, &text[i], 1, MSG_NOSIGNAL) < 0) return true;
    pollfd entry{fd, POLLIN, 0};
    if (::poll(&entry, 1, 1000) > 0) {
      char c = 0;
      if (::recv(fd, &c, 1, 0) <= 0) return true;
    }
    if (i == 0) meanwhile();
  }
  return false;
}

TEST_F(HttpLimitsTest, AClientSendingOneByteASecondIsClosedAtTheHeaderTimeout) {
  const int fd = connect_to(server_->address());
  ASSERT_GE(fd, 0);
  // A request head that never ends, one byte a second: the server (header
  // timeout 2 s for the whole head, not per byte) closes the connection
  // after two or three bytes, and serves everyone else meanwhile.
  const std::string slow = "GET /livez HTTP/1.1\r\nX-Slow: " + std::string(200, 'a');
  EXPECT_TRUE(closed_while_sending_a_byte_a_second(fd, slow, [&] { expect_still_serving(); }))
      << "the slow client held its connection for 20 s";
  ::close(fd);
  expect_still_serving();
}

TEST_F(HttpLimitsTest, AKeptAliveClientSendingItsNextHeadOneByteASecondIsClosedToo) {
  const int fd = connect_to(server_->address());
  ASSERT_GE(fd, 0);
  // A first request at full speed, answered on a connection kept alive ...
  const std::string fast = "GET /livez HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(fd, fast.data(), fast.size(), MSG_NOSIGNAL), static_cast<ssize_t>(fast.size()));
  std::string answer;
  char buffer[4096];
  for (int i = 0; i < 100 && answer.find("\"ok\"") == std::string::npos; ++i) {
    pollfd entry{fd, POLLIN, 0};
    if (::poll(&entry, 1, 100) <= 0) continue;
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    answer.append(buffer, static_cast<size_t>(n));
  }
  ASSERT_NE(answer.find("HTTP/1.1 200"), std::string::npos) << answer;
  // ... then the next head one byte a second: the header timeout counts
  // from its first byte (not the 60 s idle timeout of the connection).
  const std::string slow = "GET /livez HTTP/1.1\r\nX-Slow: " + std::string(200, 'a');
  EXPECT_TRUE(closed_while_sending_a_byte_a_second(fd, slow, [&] { expect_still_serving(); }))
      << "the slow client held its kept-alive connection for 20 s";
  ::close(fd);
  expect_still_serving();
}

TEST_F(HttpLimitsTest, AThousandIdleConnectionsDoNotStopOtherClientsAndAreClosed) {
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur < 1200 && limit.rlim_max >= 1200) {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 4096);
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  std::vector<pollfd> idle;
  for (int i = 0; i < 1000; ++i) {
    const int fd = connect_to(server_->address());
    ASSERT_GE(fd, 0) << "connection " << i;
    idle.push_back({fd, POLLIN, 0});
  }
  expect_still_serving();
  const auto stats = http_get(server_->url("/v1/public/stats"), "/v1/public/stats");
  EXPECT_EQ(stats.status, 200);
  // None sends a byte: the server closes each at its header timeout (2 s),
  // so idle clients cannot keep its connections. Polled for at most 60 s.
  size_t open = idle.size();
  for (int round = 0; round < 600 && open > 0; ++round) {
    if (::poll(idle.data(), idle.size(), 100) <= 0) continue;
    for (pollfd& entry : idle) {
      if (entry.fd < 0 || entry.revents == 0) continue;
      char c = 0;
      if (::recv(entry.fd, &c, 1, MSG_DONTWAIT) <= 0) {
        ::close(entry.fd);
        entry.fd = -1;
        --open;
      }
    }
  }
  EXPECT_EQ(open, 0u) << "idle connections the server kept open";
  for (const pollfd& entry : idle) {
    if (entry.fd >= 0) ::close(entry.fd);
  }
  expect_still_serving();
}

TEST_F(HttpLimitsTest, AChunkedBodyOver16MiBIsAnswered413AndTheConnectionClosed) {
  // No Content-Length to judge by: the server counts the chunks as they come
  // and stops reading at 16 MiB. At most 100 MB are offered, each send
  // waiting (bounded) until the socket can take it.
  const int fd = connect_to(server_->address());
  ASSERT_GE(fd, 0);
  const std::string head =
      "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  const std::string chunk = fmt::format("{:x}\r\n{}\r\n", 1 << 20, std::string(1 << 20, 'x'));
  std::string answer;
  char buffer[4096];
  bool closed = false;
  size_t offered = 0;
  size_t sent_of_chunk = 0;
  for (int round = 0; round < 3000 && !closed; ++round) {
    pollfd entry{fd, static_cast<short>(POLLIN | (offered < (size_t{100} << 20) ? POLLOUT : 0)), 0};
    if (::poll(&entry, 1, 100) <= 0) continue;
    if ((entry.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) closed = true;
      if (n > 0) answer.append(buffer, static_cast<size_t>(n));
      continue;
    }
    const ssize_t n = ::send(fd, chunk.data() + sent_of_chunk, chunk.size() - sent_of_chunk,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) closed = true;
    if (n <= 0) continue;
    sent_of_chunk += static_cast<size_t>(n);
    if (sent_of_chunk == chunk.size()) {
      sent_of_chunk = 0;
      offered += size_t{1} << 20;
    }
  }
  if (!closed) answer += read_until_closed(fd);
  ::close(fd);
  EXPECT_LT(offered, size_t{100} << 20) << "the server read all 100 MB";
  EXPECT_NE(answer.find("HTTP/1.1 413"), std::string::npos) << answer.substr(0, 300);
  EXPECT_NE(answer.find("body-too-large"), std::string::npos);
  expect_still_serving();
}

TEST_F(HttpLimitsTest, BadJsonAndInvalidUtf8AreRefusedByLineAndTheServerGoesOn) {
  const std::string good =
      R"({"type":"CaseOpened","event_id":"e1","occurred_at":"2015-06-01T08:00:00Z","case_id":"c1","currency":"USD","goal":"10.00"})";
  const std::vector<std::string> bad{
      "{\"type\":\"CaseOpened\",",  // cut short
      "{\"type\":\"CaseClosed\",\"event_id\":\"e2\",\"occurred_at\":\"2015-06-01T08:00:00Z\","
      "\"case_id\":\"c1\",\"reason\":\"oth\xc3\x28r\"}",  // invalid UTF-8 in a string
      "{\"type\":\"CaseClosed\",\"event_id\":\"e3\xff\",\"occurred_at\":\"2015-06-01T08:00:00Z\","
      "\"case_id\":\"c1\",\"reason\":\"other\"}",  // a byte that is never UTF-8
      "{\"type\":\"CaseClosed\"}}",                // JSON, then more
      "\xef\xbb\xbf" + good,                       // a byte-order mark
      "[1,2",                                      // not an object
  };
  std::string body = good + "\n";
  for (const std::string& line : bad) body += line + "\n";
  const auto answer =
      http_post(server_->url("/v1/events"), body, "application/x-ndjson", "/v1/events");
  ASSERT_EQ(answer.status, 200) << answer.body;
  const auto results = answer.json()["results"];
  ASSERT_EQ(results.size(), bad.size() + 1);
  EXPECT_EQ(results[0]["result"], "appended");
  for (size_t i = 1; i < results.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(results[i]["line"], i + 1);
    EXPECT_EQ(results[i]["result"], "refused");
  }
  // The answer is valid JSON (no invalid byte echoed), and the server goes on.
  expect_still_serving();
  // In a JSON array, an element of invalid UTF-8 is a refused line too.
  const auto array = http_post(server_->url("/v1/events"), "[" + good + ",\xff]",
                               "application/json", "/v1/events");
  ASSERT_EQ(array.status, 200) << array.body;
  const auto in_array = array.json()["results"];
  ASSERT_EQ(in_array.size(), 2u);
  EXPECT_EQ(in_array[1]["result"], "refused");
  EXPECT_NE(in_array[1]["reason"].get<std::string>().find("UTF-8"), std::string::npos);
  expect_still_serving();
}

}  // namespace
}  // namespace homeward
