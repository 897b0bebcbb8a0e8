#pragma once
// Servers for the memcached tests, all on 127.0.0.1: a real memcached on a
// free port, one that accepts connections and never answers, and a port with
// nothing behind it.

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace tessera::testing {

// `memcached -l 127.0.0.1 -p PORT -U 0`, stopped by the destructor.
class MemcachedProcess {
 public:
  // On `port`, or on a free port when it is 0. Throws std::runtime_error if
  // memcached does not start.
  explicit MemcachedProcess(unsigned short port = 0);
  ~MemcachedProcess();
  MemcachedProcess(const MemcachedProcess&) = delete;
  MemcachedProcess& operator=(const MemcachedProcess&) = delete;

  unsigned short port() const { return port_; }
  std::string address() const;  // "127.0.0.1:PORT", as MEMCACHED_SERVERS takes it

  // A counter of `stats` read over the text protocol, e.g. "get_hits".
  // Throws std::runtime_error when memcached does not answer with it.
  uint64_t stat(const std::string& name) const;

 private:
  pid_t pid_ = -1;
  unsigned short port_ = 0;
};

// Accepts every connection and never answers nor closes one: a memcached
// that hangs.
class StalledServer {
 public:
  StalledServer();
  ~StalledServer();
  StalledServer(const StalledServer&) = delete;
  StalledServer& operator=(const StalledServer&) = delete;

  unsigned short port() const { return port_; }
  std::string address() const;
  int accepted() const { return accepted_.load(); }

 private:
  int listener_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// A port on 127.0.0.1 that nothing listens on (it was free a moment ago).
unsigned short unused_port();

}  // namespace tessera::testing
