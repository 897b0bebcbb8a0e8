#include "serve/fcgi_front.hpp"

#include <arpa/inet.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "serve/cgi.hpp"
#include "serve/log.hpp"

namespace tessera {

namespace {

using Clock = std::chrono::steady_clock;

// libfcgi takes int lengths; large bodies go out in pieces.
constexpr std::size_t kWriteChunk = std::size_t(1) << 20;

std::string errno_text(int error) { return std::strerror(error); }

// Closes a file descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

struct Listener {
  int fd = -1;
  bool owned = false;     // bound here, closed here
  std::string unix_path;  // unlinked at the end when bound here
  std::string where;
};

bool is_listening_socket(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  int listening = 0;
  socklen_t len = sizeof listening;
  return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening != 0;
}

// A unix socket path left behind by a process that is gone can be reused;
// one that still answers belongs to a running server.
void remove_stale_unix_socket(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return;
  if (!S_ISSOCK(st.st_mode)) {
    throw std::runtime_error(
        fmt::format("cannot listen on {}: a file that is not a socket is there", path));
  }
  Fd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (probe.get() >= 0 &&
      ::connect(probe.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    throw std::runtime_error(
        fmt::format("cannot listen on {}: another server listens there", path));
  }
  ::unlink(path.c_str());
}

Listener bind_unix(const std::string& path, int backlog) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) {
    throw std::runtime_error(fmt::format("cannot listen on {}: the path is too long", path));
  }
  remove_stale_unix_socket(path);
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) throw std::runtime_error("cannot create a socket: " + errno_text(errno));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd.get(), backlog) != 0) {
    throw std::runtime_error(fmt::format("cannot listen on {}: {}", path, errno_text(errno)));
  }
  return Listener{fd.release(), true, path, path};
}

Listener bind_tcp(const std::string& bind, int backlog) {
  const std::size_t colon = bind.rfind(':');
  std::string host = bind.substr(0, colon);
  const std::string port = bind.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "*") host.clear();
  const bool port_ok =
      !port.empty() && port.size() <= 5 &&
      std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
      std::stoi(port) <= 65535;
  if (!port_ok) {
    throw std::runtime_error(
        fmt::format("cannot listen on {}: '{}' is not a port number", bind, port));
  }

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) {
    throw std::runtime_error(fmt::format("cannot listen on {}: {}", bind, gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, &freeaddrinfo);
  int error = 0;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    Fd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (fd.get() < 0) {
      error = errno;
      continue;
    }
    const int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd.get(), a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd.get(), backlog) != 0) {
      error = errno;
      continue;
    }
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &len);
    char text[INET6_ADDRSTRLEN] = "";
    std::string where;
    if (bound.ss_family == AF_INET6) {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&bound);
      ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
      where = fmt::format("[{}]:{}", text, ntohs(v6->sin6_port));
    } else {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(&bound);
      ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
      where = fmt::format("{}:{}", text, ntohs(v4->sin_port));
    }
    return Listener{fd.release(), true, "", where};
  }
  throw std::runtime_error(fmt::format("cannot listen on {}: {}", bind, errno_text(error)));
}

// "host:port", "[v6]:port" and ":port" are TCP, as libfcgi reads them;
// anything else is a unix socket path.
Listener open_listener(const FcgiOptions& options) {
  const std::string& bind = options.bind;
  if (bind.empty()) {
    if (!stdin_is_listening_socket()) {
      throw std::runtime_error(
          "standard input is not a listening socket: start from spawn-fcgi or a web server "
          "(mod_fcgid, lighttpd), or give --bind HOST:PORT");
    }
    return Listener{0, false, "", "standard input"};
  }
  const std::size_t colon = bind.rfind(':');
  const bool tcp = bind.front() != '/' && bind.front() != '.' && colon != std::string::npos;
  return tcp ? bind_tcp(bind, options.backlog) : bind_unix(bind, options.backlog);
}

class FcgiServer {
 public:
  FcgiServer(const Service& service, int listen_fd)
      : service_(service),
        listen_fd_(listen_fd),
        wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (wake_fd_.get() < 0)
      throw std::runtime_error("cannot create an eventfd: " + errno_text(errno));
  }

  // Runs on each worker thread until stop().
  void work() {
    FCGX_Request request;
    if (FCGX_InitRequest(&request, listen_fd_, 0) != 0) {
      fail("cannot set up a FastCGI request");
      return;
    }
    while (!stopping_) {
      if (!accept(request)) continue;
      answer(request);
      FCGX_Finish_r(&request);
    }
  }

  void stop() {
    stopping_ = true;
    const uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(wake_fd_.get(), &one, sizeof one);
  }

  bool failed() const { return failed_; }
  const std::string& failure() const { return failure_; }

 private:
  // One thread at a time waits for a connection: poll() lets stop() wake it,
  // and a non-blocking accept() returns at once when another process sharing
  // the socket (spawn-fcgi -F) took the connection first.
  bool accept(FCGX_Request& request) {
    int rc = 0;
    {
      std::lock_guard lock(accept_mutex_);
      if (stopping_) return false;
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno != EINTR) fail("poll on the FastCGI socket failed: " + errno_text(errno));
        return false;
      }
      if (fds[1].revents != 0) return false;
      if ((fds[0].revents & (POLLERR | POLLNVAL)) != 0) {
        fail("the FastCGI listening socket failed");
        return false;
      }
      if ((fds[0].revents & POLLIN) == 0) return false;
      rc = FCGX_Accept_r(&request);
    }
    if (rc >= 0) return true;
    const int error = -rc;
    if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
      log_error("FastCGI accept: " + errno_text(error));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } else if (error == EBADF || error == EINVAL || error == ENOTSOCK || error == EOPNOTSUPP) {
      fail("FastCGI accept failed: " + errno_text(error));
    }
    // Anything else (EAGAIN after a lost race, a connection closed before its
    // parameters arrived) just means: wait for the next one.
    return false;
  }

  void answer(FCGX_Request& fcgx) {
    const auto started = Clock::now();
    Request request;
    Response response;
    try {
      request = request_from_cgi(fcgx.envp);
      response = service_.handle(request);
    } catch (const std::exception& e) {
      response = Response{};
      response.status = 500;
      response.body = fmt::format("internal error: {}\n", e.what());
      response.set_header("Content-Type", "text/plain; charset=utf-8");
    }
    const std::string head = cgi_reply_head(response);
    bool ok = FCGX_PutStr(head.data(), int(head.size()), fcgx.out) >= 0;
    const bool with_body = cgi_reply_has_body(request.method, response.status);
    if (with_body) {
      const std::string_view body = response.content();
      for (std::size_t at = 0; ok && at < body.size(); at += kWriteChunk) {
        const std::size_t n = std::min(kWriteChunk, body.size() - at);
        ok = FCGX_PutStr(body.data() + at, int(n), fcgx.out) >= 0;
      }
    }
    const char* uri = FCGX_GetParam("REQUEST_URI", fcgx.envp);
    const std::string target =
        uri != nullptr ? std::string(uri)
                       : request.path + (request.query.empty() ? "" : "?" + request.query);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    log_request(request.method.empty() ? "-" : request.method, target, response.status,
                with_body && ok ? response.content().size() : 0, ms);
  }

  void fail(const std::string& reason) {
    bool expected = false;
    if (failed_.compare_exchange_strong(expected, true)) {
      failure_ = reason;
      ::kill(::getpid(), SIGTERM);  // wakes the thread waiting for signals
    }
  }

  const Service& service_;
  const int listen_fd_;
  Fd wake_fd_;
  std::mutex accept_mutex_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> failed_{false};
  std::string failure_;
};

}  // namespace

bool stdin_is_listening_socket() { return is_listening_socket(STDIN_FILENO); }

void run_fcgi_server(const Service& service, const FcgiOptions& options,
                     const std::function<void(const std::string& where)>& on_listening) {
  Listener listener = open_listener(options);
  // Worker threads must not take SIGPIPE from a web server that hung up, and
  // must not take the stop signals: this thread waits for those.
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int sig : {SIGTERM, SIGINT, SIGUSR1, SIGHUP}) sigaddset(&stop_signals, sig);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &stop_signals, &previous);

  const auto cleanup = [&] {
    if (listener.owned) ::close(listener.fd);
    if (!listener.unix_path.empty()) ::unlink(listener.unix_path.c_str());
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  };
  if (FCGX_Init() != 0) {
    cleanup();
    throw std::runtime_error("cannot initialise libfcgi");
  }
  // Non-blocking, so that accept() never waits on a connection another
  // process took first; accepted connections stay blocking (Linux does not
  // pass the flag on).
  ::fcntl(listener.fd, F_SETFL, ::fcntl(listener.fd, F_GETFL) | O_NONBLOCK);

  FcgiServer server(service, listener.fd);
  // The socket listens already (connections wait in its queue): say so
  // before any request is answered, so the log reads in order.
  try {
    on_listening(listener.where);
  } catch (...) {
    cleanup();
    throw;
  }
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < std::max(1u, options.workers); ++i) {
    threads.emplace_back([&server] { server.work(); });
  }

  for (;;) {
    int sig = 0;
    if (sigwait(&stop_signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      log_info("SIGHUP: nothing to reload; SIGTERM stops the server");
      continue;
    }
    if (!server.failed())
      log_info(fmt::format("{}: stopping after the requests in progress", strsignal(sig)));
    break;
  }
  server.stop();
  for (auto& t : threads) t.join();
  cleanup();
  if (server.failed()) throw std::runtime_error(server.failure());
}

}  // namespace tessera
