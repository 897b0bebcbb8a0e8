#include "support/memcached_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace tessera::testing {

namespace {

using namespace std::chrono_literals;

sockaddr_in loopback(unsigned short port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  return addr;
}

// A connected socket to 127.0.0.1:port, or -1.
int connect_to(unsigned short port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const sockaddr_in addr = loopback(port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  timeval timeout{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  return fd;
}

std::string find_memcached() {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/bin:/usr/sbin:/usr/local/bin";
  std::stringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::filesystem::path candidate = std::filesystem::path(dir) / "memcached";
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  throw std::runtime_error("memcached is not installed (scripts/setup.sh installs it)");
}

}  // namespace

unsigned short unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = loopback(0);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

MemcachedProcess::MemcachedProcess(unsigned short port_wanted) {
  const std::string program = find_memcached();
  for (int attempt = 0; attempt < 5 && pid_ < 0; ++attempt) {
    port_ = port_wanted != 0 ? port_wanted : unused_port();
    const std::string port = std::to_string(port_);
    // -U 0: no UDP; -u: memcached refuses to run as root without a user.
    std::vector<std::string> args{program, "-l", "127.0.0.1", "-p", port, "-U",
                                  "0",     "-m", "64",        "-t", "2"};
    if (::geteuid() == 0) {
      args.push_back("-u");
      args.push_back("nobody");
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      const int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, STDIN_FILENO);
      ::dup2(null, STDOUT_FILENO);
      ::execv(program.c_str(), argv.data());
      ::_exit(127);
    }
    // Ready once it accepts; gone when the port was taken meanwhile.
    bool ready = false;
    for (auto waited = 0ms; waited < 5000ms && !ready; waited += 20ms) {
      if (::waitpid(pid, nullptr, WNOHANG) == pid) break;
      if (const int fd = connect_to(port_); fd >= 0) {
        ::close(fd);
        ready = true;
      } else {
        std::this_thread::sleep_for(20ms);
      }
    }
    if (ready) {
      pid_ = pid;
    } else {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  if (pid_ < 0) throw std::runtime_error("memcached did not start");
}

MemcachedProcess::~MemcachedProcess() {
  if (pid_ > 0) {
    // Nothing to save, and SIGTERM makes memcached linger for a second.
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

std::string MemcachedProcess::address() const { return "127.0.0.1:" + std::to_string(port_); }

uint64_t MemcachedProcess::stat(const std::string& name) const {
  const int fd = connect_to(port_);
  if (fd < 0) throw std::runtime_error("memcached does not accept connections");
  const std::string request = "stats\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    ::close(fd);
    throw std::runtime_error("could not send 'stats' to memcached");
  }
  std::string answer;
  char buffer[4096];
  while (answer.find("END\r\n") == std::string::npos && answer.size() < (1 << 20)) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    answer.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const std::string label = "STAT " + name + " ";
  const std::size_t at = answer.find(label);
  if (at == std::string::npos) {
    throw std::runtime_error("memcached's stats have no " + name + ": " + answer);
  }
  return std::stoull(answer.substr(at + label.size()));
}

StalledServer::StalledServer() {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = loopback(0);
  socklen_t len = sizeof addr;
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener_, 64) != 0 ||
      ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (listener_ >= 0) ::close(listener_);
    throw std::runtime_error("could not listen on 127.0.0.1");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] {
    std::vector<int> held;
    while (!stop_.load()) {
      pollfd pfd{listener_, POLLIN, 0};
      if (::poll(&pfd, 1, 50) == 1) {
        const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) {
          held.push_back(fd);
          accepted_.fetch_add(1);
        }
      }
    }
    for (int fd : held) ::close(fd);
  });
}

StalledServer::~StalledServer() {
  stop_.store(true);
  thread_.join();
  ::close(listener_);
}

std::string StalledServer::address() const { return "127.0.0.1:" + std::to_string(port_); }

}  // namespace tessera::testing
