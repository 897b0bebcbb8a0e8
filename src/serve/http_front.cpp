#include "serve/http_front.hpp"

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including
// <utility>; include it first.
#include <array>
#include <utility>

#include <fmt/format.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "serve/log.hpp"

namespace tessera {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr std::size_t kHeaderLimit = 16 * 1024;
// Image requests carry no body; anything larger is refused, not buffered.
constexpr std::size_t kBodyLimit = 64 * 1024;
// How much of a refused request is read and dropped before hanging up.
constexpr std::size_t kLingerLimit = 1024 * 1024;

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

// One client connection: reads a request, hands it to the worker pool,
// writes the answer on the connection's strand, and repeats while the
// client keeps the connection alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, const Service& service, asio::thread_pool& workers)
      : stream_(std::move(socket)), service_(service), workers_(workers) {}

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(kBodyLimit);
    stream_.expires_after(kIdleTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::eof) {
      return close();
    }
    if (ec) {
      // A malformed or oversized request: say so once and hang up.
      Response response;
      response.status =
          (ec == http::error::body_limit || ec == http::error::header_limit) ? 413 : 400;
      response.body = fmt::format("malformed HTTP request: {}\n", ec.message());
      response.set_header("Content-Type", "text/plain; charset=utf-8");
      keep_alive_ = false;
      refused_ = true;
      head_request_ = false;
      method_.assign(1, '-');  // not = "-": GCC 12 warns falsely (PR 105329)
      target_.assign(1, '-');
      started_ = Clock::now();
      return write(std::move(response));
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
    // network thread: a hand-over to a worker and back costs more than that.
    if (std::optional<Response> quick = service_.handle_from_memory(request)) {
      return write(std::move(*quick));
    }
    stream_.expires_never();  // the worker may take a while; no timer meanwhile

    asio::post(workers_, [self = shared_from_this(), request = std::move(request)] {
      Response response = self->service_.handle(request);
      asio::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
        self->write(std::move(response));
      });
    });
  }

  // The status line and headers are written here, into one buffer reused
  // for every reply on the connection, and sent with the body in one
  // gathering write: Beast's serializer costs more per small reply than the
  // rest of a cached answer together.
  void write(Response response) {
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
    const std::size_t sent = (head_request_ || bodiless) ? 0 : body.size();
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(head_),
                                                    asio::buffer(body.data(), sent)};
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
    log_request(method_, target_, response.status, sent, ms);

    stream_.expires_after(kIdleTimeout);
    asio::async_write(stream_, buffers,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        self->owned_body_.clear();
                        self->shared_body_.reset();
                        if (ec) return self->close();
                        if (!self->keep_alive_) {
                          return self->refused_ ? self->linger_close() : self->close();
                        }
                        self->read();
                      });
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
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  // After refusing a request whose bytes may still be arriving: stop
  // sending, then read and drop what comes for a moment before closing.
  // Closing at once with unread data makes the kernel send a reset, which
  // can destroy the error response before the client has read it.
  void linger_close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(2));
    drain(0);
  }

  void drain(std::size_t drained) {
    stream_.async_read_some(asio::buffer(discard_), [self = shared_from_this(), drained](
                                                        beast::error_code ec, std::size_t n) {
      if (ec || drained + n > kLingerLimit) return self->stream_.close();
      self->drain(drained + n);
    });
  }

  beast::tcp_stream stream_;
  const Service& service_;
  asio::thread_pool& workers_;
  beast::flat_buffer buffer_;
  bool refused_ = false;  // the request was refused unread: linger before closing
  std::array<char, 16384> discard_{};
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string head_;        // the reply's status line and headers, alive until written
  std::string owned_body_;  // the reply's body:
  std::shared_ptr<const std::string> shared_body_;  // one or the other
  bool keep_alive_ = false;
  bool http10_ = false;
  bool head_request_ = false;
  std::string method_, target_;
  Clock::time_point started_;
};

// Accepts connections and deals them out over the network threads, each of
// which runs its own io_context: a connection stays on one thread, and no
// two threads share a reactor (or wake each other) to serve it.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(std::vector<std::unique_ptr<asio::io_context>>& contexts, tcp::endpoint endpoint,
           const Service& service, asio::thread_pool& workers)
      : contexts_(contexts), acceptor_(*contexts.front()), service_(service), workers_(workers) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }

  void accept() {
    asio::io_context& next = *contexts_[next_++ % contexts_.size()];
    acceptor_.async_accept(
        next, [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
          if (!ec) {
            socket.set_option(tcp::no_delay(true), ec);
            std::make_shared<Session>(std::move(socket), self->service_, self->workers_)->start();
          }
          if (self->acceptor_.is_open()) self->accept();
        });
  }

  void stop() {
    beast::error_code ignored;
    acceptor_.close(ignored);
  }

 private:
  std::vector<std::unique_ptr<asio::io_context>>& contexts_;
  std::size_t next_ = 0;  // only the accepting thread counts
  tcp::acceptor acceptor_;
  const Service& service_;
  asio::thread_pool& workers_;
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
  asio::thread_pool workers(std::max(1u, options.workers));

  beast::error_code ec;
  const auto address = asio::ip::make_address(options.host, ec);
  if (ec) throw std::runtime_error(fmt::format("invalid host address '{}'", options.host));
  std::shared_ptr<Listener> listener;
  try {
    listener = std::make_shared<Listener>(contexts, tcp::endpoint(address, options.port), service,
                                          workers);
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
