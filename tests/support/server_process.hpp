#pragma once
// Starts build/tessera as a child process on a free port and stops it.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace tessera::testing {

class ServerProcess {
 public:
  // Runs `tessera serve ROOT --port 0 <extra...>` with extra environment
  // variables (NAME=value) and waits until it prints the port it listens on.
  explicit ServerProcess(const std::filesystem::path& root, std::vector<std::string> extra = {},
                         std::vector<std::string> env = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  unsigned short port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool running();           // false once the process has exited
  std::string log() const;  // what the server wrote to stderr so far

 private:
  pid_t pid_ = -1;
  unsigned short port_ = 0;
  std::filesystem::path log_path_;
};

// Runs the tessera binary with arguments; returns its exit status and puts
// stdout+stderr in `output`.
int run_tessera(const std::vector<std::string>& args, std::string& output,
                const std::vector<std::string>& env = {});

}  // namespace tessera::testing
