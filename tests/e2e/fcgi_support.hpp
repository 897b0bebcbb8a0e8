#pragma once
// Real web servers and FastCGI programs for the end-to-end tests: child
// processes with their output in a file, free ports, and nginx configured
// with the server block of docs/deploy.md. Shared by fcgi_test.cpp (Tessera
// behind nginx, lighttpd, Apache) and differential_test.cpp (Debian's
// iipsrv behind nginx).

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tessera::testing {

// The whole file, or "" when it cannot be read.
std::string read_text_file(const std::filesystem::path& path);

// Polls `ready` every 20 ms until it holds or `timeout` passes; its last answer.
bool wait_for(const std::function<bool()>& ready,
              std::chrono::milliseconds timeout = std::chrono::seconds(20));

// The program in PATH or in the sbin folders a non-root PATH may lack.
// Throws std::runtime_error when it is not installed.
std::string find_program(const std::string& name);

// A 127.0.0.1 TCP port that was free a moment ago.
unsigned short free_port();

// Whether something accepts connections there now.
bool can_connect(unsigned short port);
bool can_connect(const std::filesystem::path& unix_socket);

// A child process whose stdout and stderr go to a file; killed if still
// running when destroyed.
class Child {
 public:
  // argv[0] is a path (no PATH search); env entries (NAME=value) are added
  // to this process's environment. It runs in a process group of its own.
  Child(const std::vector<std::string>& argv, const std::vector<std::string>& env,
        const std::filesystem::path& output);
  // Kills it, and whatever of its group is left: a server's helpers (nginx's
  // workers, mod_fcgid's process manager) must not outlive the test.
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  std::string output() const { return read_text_file(output_); }

  // Waits for the process to end by itself; -1 if it is still running.
  int wait(std::chrono::milliseconds timeout);

  // Sends `sig` and waits; kills it after 20 s. The exit status, 128 + signal
  // when a signal ended it.
  int stop(int sig = SIGTERM);

 private:
  pid_t pid_ = -1;
  pid_t group_ = -1;
  std::filesystem::path output_;
};

// The fenced block after `marker` in docs/deploy.md, with every `from` of
// `replacements` (which must appear) replaced by its `to`.
std::string documented_block(const std::string& marker, const std::string& language,
                             const std::vector<std::pair<std::string, std::string>>& replacements);

// nginx in the foreground, as the current user, everything in its own
// folder, with the server block of docs/deploy.md on a free 127.0.0.1 port
// passing every request to `fastcgi_target` ("127.0.0.1:9000" or
// "unix:/path"). Stopped with SIGQUIT when destroyed.
class Nginx {
 public:
  Nginx(const std::filesystem::path& dir, const std::string& fastcgi_target);
  ~Nginx();
  Nginx(const Nginx&) = delete;
  Nginx& operator=(const Nginx&) = delete;

  unsigned short port() const { return port_; }
  std::string error_log() const;

 private:
  std::filesystem::path dir_;
  unsigned short port_ = 0;
  std::unique_ptr<Child> child_;
};

// `tessera serve ... --bind ...` (or iipsrv.fcgi --bind): waits for the line
// naming the socket and returns what follows fastcgi://.
std::string wait_for_fastcgi_line(const Child& child);

}  // namespace tessera::testing
