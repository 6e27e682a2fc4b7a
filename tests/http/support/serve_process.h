// `homeward serve` as a child process for the HTTP tests: started on
// 127.0.0.1 with an ephemeral port (--listen 127.0.0.1:0), its bound address
// read from the first line of its standard output. The destructor kills
// (SIGKILL) and reaps it if the test did not stop it.
#pragma once

#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "tests/support/child_process.h"

namespace homeward::testing {

class ServeProcess : public ChildProcess {
 public:
  // Runs `homeward --data DIR GLOBAL... serve --listen 127.0.0.1:0 EXTRA...`;
  // stderr goes to `stderr_file`.
  ServeProcess(const std::filesystem::path& data_dir, const std::vector<std::string>& extra,
               const std::filesystem::path& stderr_file,
               const std::vector<std::string>& global = {})
      : ChildProcess(HOMEWARD_BINARY, arguments(data_dir, extra, global), stderr_file) {
    address_ = read_line(std::chrono::seconds(60));
  }

  // "127.0.0.1:PORT", or empty when the server did not start.
  [[nodiscard]] const std::string& address() const { return address_; }
  [[nodiscard]] std::string url(const std::string& path) const {
    return "http://" + address_ + path;
  }

  // Sends `signal_number` and waits up to `deadline` for the exit: the exit
  // code, 128+N when killed by signal N, -1 when it did not end in time. A
  // stop that is not clean prints what serve said, for the test's log.
  int stop(int signal_number, std::chrono::milliseconds deadline = std::chrono::seconds(60)) {
    const int status = ChildProcess::stop(signal_number, deadline);
    if (status != 0) std::cerr << "serve exited " << status << "; its stderr:\n" << stderr_text();
    return status;
  }

 private:
  static std::vector<std::string> arguments(const std::filesystem::path& data_dir,
                                            const std::vector<std::string>& extra,
                                            const std::vector<std::string>& global) {
    std::vector<std::string> args{"--data", data_dir.string()};
    args.insert(args.end(), global.begin(), global.end());
    args.insert(args.end(), {"serve", "--listen", "127.0.0.1:0"});
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  std::string address_;
};

}  // namespace homeward::testing
