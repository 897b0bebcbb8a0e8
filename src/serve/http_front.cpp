#include "serve/http_front.hpp"

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including
// <utility>; include it first.
#include <array>
#include <utility>

#include <fmt/format.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include <sys/socket.h>
#include <sys/uio.h>

#include "serve/log.hpp"

namespace tessera {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kHeaderLimit = 16 * 1024;
// Image requests carry no body; anything larger is refused, not buffered.
constexpr std::size_t kBodyLimit = 64 * 1024;
// How much of a refused request is read and dropped before hanging up, and
// for how long at most.
constexpr std::size_t kLingerLimit = 1024 * 1024;
constexpr auto kLingerTime = std::chrono::seconds(2);

Request to_request(const http::request<http::string_body>& message) {
  Request request;
  request.method = std::string(message.method_string());
  const auto target = message.target();
  auto [path, query] = split_target(std::string_view(target.data(), target.size()));
  request.path = std::move(path);
  request.query = std::move(query);
  for (const auto& field : message) {
    std::string name(field.name_string());
    for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
    request.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  return request;
}

class Session;

// Closes a network thread's connections that have waited too long: for a
// request's bytes, for the client to take a reply, or lingering after a
// refusal. One timer per thread ticks each second and reads each
// connection's deadline; a per-connection timer would be re-armed on every
// request (a system call each time), and only from the network thread.
class Reaper {
 public:
  explicit Reaper(asio::io_context& io) : timer_(io) {}
  void start() { tick(); }
  // On the reaper's own thread only.
  void add(std::weak_ptr<Session> session) { sessions_.push_back(std::move(session)); }

 private:
  void tick();
  asio::steady_timer timer_;
  std::vector<std::weak_ptr<Session>> sessions_;
};

// One client connection: reads a request, answers it from memory or hands it
// to the worker pool, writes the answer and repeats while the client keeps
// the connection alive. One thread at a time works on a connection: the
// network thread while it reads, the worker while it answers. The worker
// sends its own reply (a hand-back would wake the network thread for every
// request) and starts the next read; the network thread is woken by the
// client's next request.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, const Service& service, asio::thread_pool& workers,
          Clock::duration idle_timeout)
      : socket_(std::move(socket)),
        service_(service),
        workers_(workers),
        idle_timeout_(idle_timeout) {}

  void start(Reaper& reaper) {
    asio::dispatch(socket_.get_executor(), [self = shared_from_this(), &reaper] {
      reaper.add(self);
      self->read();
    });
  }

  // For the reaper, on the network thread: closes the connection if its
  // deadline has passed. A deadline is set only while the network thread
  // owns the connection, or by a worker about to hand it back with a read
  // (under `handover_`, which the reaper then leaves for its next tick).
  void close_if_overdue(Clock::time_point now) {
    const std::unique_lock<std::mutex> lock(handover_, std::try_to_lock);
    const int64_t deadline = deadline_.load(std::memory_order_acquire);
    if (!lock || deadline == 0 || now.time_since_epoch().count() <= deadline) return;
    deadline_.store(0, std::memory_order_release);
    beast::error_code ignored;
    socket_.close(ignored);  // the pending read or write ends with an error
  }

 private:
  void set_deadline(Clock::duration after) {
    deadline_.store((Clock::now() + after).time_since_epoch().count(), std::memory_order_release);
  }
  void clear_deadline() { deadline_.store(0, std::memory_order_release); }

  void read() {
    const std::lock_guard<std::mutex> lock(handover_);
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(kBodyLimit);
    set_deadline(idle_timeout_);
    http::async_read(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  // The status and reason for a request refused before it was read whole:
  // a request line that alone passes the header limit is 414, a header
  // block 431, a body 413 (RFC 9110 §15.5.15, RFC 6585 §5).
  std::pair<int, std::string> refusal(const beast::error_code& ec) const {
    if (ec == http::error::body_limit) {
      return {413, fmt::format("request body too large (over {} bytes)\n", kBodyLimit)};
    }
    if (ec == http::error::header_limit) {
      // The parser takes the request line as soon as it is whole.
      if (parser_->get().target().empty()) {
        return {414, fmt::format("request line too long (over {} bytes)\n", kHeaderLimit)};
      }
      return {431, fmt::format("request header fields too large (over {} bytes)\n", kHeaderLimit)};
    }
    return {400, fmt::format("malformed HTTP request: {}\n", ec.message())};
  }

  void on_read(beast::error_code ec) {
    clear_deadline();  // the worker may take a while
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
        ec == asio::error::bad_descriptor || ec == asio::error::connection_reset ||
        ec == asio::error::eof || ec == http::error::partial_message) {
      // The client has gone (partial_message: in the middle of a request).
      return close();
    }
    if (ec) {
      // A malformed or oversized request: say so once and hang up.
      Response response;
      std::tie(response.status, response.body) = refusal(ec);
      response.set_header("Content-Type", "text/plain; charset=utf-8");
      keep_alive_ = false;
      refused_ = true;
      head_request_ = false;
      method_.assign(1, '-');  // not = "-": GCC 12 warns falsely (PR 105329)
      target_.assign(1, '-');
      started_ = Clock::now();
      return send(std::move(response));
    }
    const auto& message = parser_->get();
    keep_alive_ = message.keep_alive();
    head_request_ = message.method() == http::verb::head;
    http10_ = message.version() == 10;
    method_ = std::string(message.method_string());
    target_ = std::string(message.target());
    started_ = Clock::now();
    Request request = to_request(message);
    // What memory alone answers (a cached tile, say) is answered here, on the
    // network thread: a hand-over to a worker costs more than that.
    if (std::optional<Response> quick = service_.handle_from_memory(request)) {
      return send(std::move(*quick));
    }
    asio::post(workers_, [self = shared_from_this(), request = std::move(request)] {
      self->send(self->service_.handle(request));
    });
  }

  // Sends a reply from whichever thread holds the connection. The status
  // line and headers are written here, into one buffer reused for every
  // reply on the connection, and go out with the body in one sendmsg:
  // Beast's serializer costs more per small reply than the rest of a cached
  // answer together. What the socket does not take at once (a large reply,
  // a slow client) the network thread writes.
  void send(Response response) {
    const unsigned status = static_cast<unsigned>(response.status);
    const auto reason = http::obsolete_reason(static_cast<http::status>(status));
    head_.clear();
    fmt::format_to(std::back_inserter(head_), "HTTP/1.1 {} {}\r\n", status,
                   std::string_view(reason.data(), reason.size()));
    for (const auto& [name, value] : response.headers) append_header(name, value);
    append_header("Server", "Tessera");
    if (!keep_alive_) {
      append_header("Connection", "close");
    } else if (http10_) {
      append_header("Connection", "keep-alive");
    }
    // The reply points into the body, kept here until it is written: a
    // cached body is sent from the cache's own bytes.
    owned_body_ = std::move(response.body);
    shared_body_ = std::move(response.shared_body);
    const std::string_view body = shared_body_ ? std::string_view(*shared_body_) : owned_body_;
    // 1xx, 204 and 304 replies have no body and say no length; a HEAD reply
    // says the length a GET would send, and sends nothing.
    const bool bodiless = status < 200 || status == 204 || status == 304;
    if (!bodiless) fmt::format_to(std::back_inserter(head_), "Content-Length: {}\r\n", body.size());
    head_ += "\r\n";
    body_ = body.substr(0, (head_request_ || bodiless) ? 0 : body.size());
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
    log_request(method_, target_, response.status, body_.size(), ms);

    std::array<iovec, 2> parts{iovec{head_.data(), head_.size()},
                               iovec{const_cast<char*>(body_.data()), body_.size()}};
    msghdr message{};
    message.msg_iov = parts.data();
    message.msg_iovlen = body_.empty() ? 1 : 2;
    ssize_t sent;
    do {
      sent = ::sendmsg(socket_.native_handle(), &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return close();  // the client left
    const std::size_t done = sent < 0 ? 0 : std::size_t(sent);
    if (done == head_.size() + body_.size()) return after_write();
    asio::dispatch(socket_.get_executor(),
                   [self = shared_from_this(), done] { self->write_rest(done); });
  }

  // On the network thread: the rest of a reply the socket did not take at
  // once, `done` bytes being sent. The deadline runs from the last progress,
  // not from the start (as nginx's send_timeout): a large image on a slow
  // link keeps going while the client keeps reading.
  void write_rest(std::size_t done) {
    const std::size_t total = head_.size() + body_.size();
    if (done == total) {
      clear_deadline();
      return after_write();
    }
    std::array<asio::const_buffer, 2> rest{asio::buffer(head_), asio::buffer(body_)};
    if (done < head_.size()) {
      rest[0] = asio::buffer(head_.data() + done, head_.size() - done);
    } else {
      rest[0] = asio::const_buffer();
      rest[1] =
          asio::buffer(body_.data() + (done - head_.size()), body_.size() - (done - head_.size()));
    }
    set_deadline(idle_timeout_);
    socket_.async_write_some(
        rest, [self = shared_from_this(), done](beast::error_code ec, std::size_t n) {
          if (ec) {
            self->clear_deadline();
            return self->close();
          }
          self->write_rest(done + n);
        });
  }

  void after_write() {
    owned_body_.clear();
    shared_body_.reset();
    body_ = {};
    if (!keep_alive_) return refused_ ? linger_close() : close();
    read();
  }

  // "name: value\r\n"; a CR or LF in a value (none should carry one) is sent
  // as a space rather than end the header early.
  void append_header(std::string_view name, std::string_view value) {
    head_ += name;
    head_ += ": ";
    const std::size_t start = head_.size();
    head_ += value;
    for (std::size_t i = start; i < head_.size(); ++i) {
      if (head_[i] == '\r' || head_[i] == '\n') head_[i] = ' ';
    }
    head_ += "\r\n";
  }

  void close() {
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    socket_.close(ignored);
  }

  // After refusing a request whose bytes may still be arriving: stop
  // sending, then read and drop what comes for a moment before closing.
  // Closing at once with unread data makes the kernel send a reset, which
  // can destroy the error response before the client has read it. Refusals
  // are sent by the network thread, so this runs there.
  void linger_close() {
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    set_deadline(kLingerTime);
    drain(0);
  }

  void drain(std::size_t drained) {
    if (!discard_) discard_ = std::make_unique<std::array<char, kDiscardBytes>>();
    socket_.async_read_some(asio::buffer(*discard_), [self = shared_from_this(), drained](
                                                         beast::error_code ec, std::size_t n) {
      if (ec || drained + n > kLingerLimit) {
        self->clear_deadline();
        beast::error_code ignored;
        self->socket_.close(ignored);
        return;
      }
      self->drain(drained + n);
    });
  }

  tcp::socket socket_;
  const Service& service_;
  asio::thread_pool& workers_;
  const Clock::duration idle_timeout_;
  // When the reaper closes the connection (steady clock ticks; 0: never).
  std::atomic<int64_t> deadline_{0};
  std::mutex handover_;  // held while a read is started
  beast::flat_buffer buffer_;
  bool refused_ = false;  // the request was refused unread: linger before closing
  // Where a refused request's rest is read and dropped; made only then, as
  // every idle connection would otherwise hold it.
  static constexpr std::size_t kDiscardBytes = 16384;
  std::unique_ptr<std::array<char, kDiscardBytes>> discard_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string head_;        // the reply's status line and headers, alive until written
  std::string owned_body_;  // the reply's body:
  std::shared_ptr<const std::string> shared_body_;  // one or the other
  std::string_view body_;                           // what of it is sent
  bool keep_alive_ = false;
  bool http10_ = false;
  bool head_request_ = false;
  std::string method_, target_;
  Clock::time_point started_;
};

void Reaper::tick() {
  timer_.expires_after(std::chrono::seconds(1));
  timer_.async_wait([this](beast::error_code ec) {
    if (ec) return;
    const auto now = Clock::now();
    std::erase_if(sessions_, [now](const std::weak_ptr<Session>& weak) {
      const std::shared_ptr<Session> session = weak.lock();
      if (!session) return true;
      session->close_if_overdue(now);
      return false;
    });
    tick();
  });
}

// Accepts connections and deals them out over the network threads, each of
// which runs its own io_context: a connection stays on one thread, and no
// two threads share a reactor (or wake each other) to serve it.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(std::vector<std::unique_ptr<asio::io_context>>& contexts,
           std::vector<std::unique_ptr<Reaper>>& reapers, tcp::endpoint endpoint,
           const Service& service, asio::thread_pool& workers, Clock::duration idle_timeout)
      : contexts_(contexts),
        reapers_(reapers),
        acceptor_(*contexts.front()),
        retry_(*contexts.front()),
        service_(service),
        workers_(workers),
        idle_timeout_(idle_timeout) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }

  void accept() {
    const std::size_t index = next_++ % contexts_.size();
    acceptor_.async_accept(*contexts_[index], [self = shared_from_this(), index](
                                                  beast::error_code ec, tcp::socket socket) {
      if (!ec) {
        self->short_of_resources_ = false;
        socket.set_option(tcp::no_delay(true), ec);
        std::make_shared<Session>(std::move(socket), self->service_, self->workers_,
                                  self->idle_timeout_)
            ->start(*self->reapers_[index]);
      } else if (out_of_resources(ec) && self->acceptor_.is_open()) {
        return self->accept_later(ec);
      }
      if (self->acceptor_.is_open()) self->accept();
    });
  }

  void stop() {
    beast::error_code ignored;
    acceptor_.close(ignored);
    retry_.cancel();
  }

 private:
  // Out of descriptors or memory, accept() fails at once for as long as the
  // connection waits in the backlog: retrying at once would spin a core.
  static bool out_of_resources(const beast::error_code& ec) {
    return ec == asio::error::no_descriptors || ec == beast::errc::too_many_files_open_in_system ||
           ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
  }

  // Accepts again in 100 ms, while connections that end free descriptors.
  // Logged once for each spell of shortage.
  void accept_later(const beast::error_code& ec) {
    if (!short_of_resources_) {
      log_error(fmt::format("cannot accept connections for now: {}", ec.message()));
      short_of_resources_ = true;
    }
    retry_.expires_after(std::chrono::milliseconds(100));
    retry_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
      if (!wait_ec && self->acceptor_.is_open()) self->accept();
    });
  }

  std::vector<std::unique_ptr<asio::io_context>>& contexts_;
  std::vector<std::unique_ptr<Reaper>>& reapers_;  // one per context, same order
  std::size_t next_ = 0;                           // only the accepting thread counts
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;  // on the accepting thread, as is the flag
  bool short_of_resources_ = false;
  const Service& service_;
  asio::thread_pool& workers_;
  const Clock::duration idle_timeout_;
};

}  // namespace

void run_http_server(const Service& service, const HttpOptions& options,
                     const std::function<void(unsigned short port)>& on_listening) {
  const unsigned io_threads = std::max(1u, options.io_threads);
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  for (unsigned i = 0; i < io_threads; ++i) {
    contexts.push_back(std::make_unique<asio::io_context>(1));  // one thread each: no locking
    keep_running.push_back(asio::make_work_guard(*contexts.back()));
  }
  asio::io_context& io = *contexts.front();
  // After the contexts: their timers go before the contexts do.
  std::vector<std::unique_ptr<Reaper>> reapers;
  for (auto& context : contexts) {
    reapers.push_back(std::make_unique<Reaper>(*context));
    reapers.back()->start();
  }
  asio::thread_pool workers(std::max(1u, options.workers));
  const Clock::duration idle_timeout =
      std::chrono::seconds(std::max(1u, options.idle_timeout_seconds));

  beast::error_code ec;
  const auto address = asio::ip::make_address(options.host, ec);
  if (ec) throw std::runtime_error(fmt::format("invalid host address '{}'", options.host));
  std::shared_ptr<Listener> listener;
  try {
    listener = std::make_shared<Listener>(contexts, reapers, tcp::endpoint(address, options.port),
                                          service, workers, idle_timeout);
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error(
        fmt::format("cannot listen on {}:{}: {}", options.host, options.port, e.code().message()));
  }
  listener->accept();

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code, int) {
    listener->stop();
    for (auto& context : contexts) context->stop();
  });
  on_listening(listener->port());

  std::vector<std::thread> threads;
  for (unsigned i = 1; i < io_threads; ++i) {
    threads.emplace_back([&context = *contexts[i]] { context.run(); });
  }
  io.run();
  for (auto& t : threads) t.join();
  workers.stop();
  workers.join();
}

}  // namespace tessera
