#pragma once
// The embedded HTTP/1.1 server (Boost.Beast over Asio). I/O threads read
// requests and answer what memory alone answers (Service::handle_from_memory:
// cached replies); everything else runs Service::handle on a separate worker
// pool, so that decoding never blocks a socket, and the worker sends the
// reply itself (the I/O thread finishes what the socket does not take at
// once). Beast stays inside the .cpp.

#include <functional>
#include <string>

#include "serve/service.hpp"

namespace tessera {

struct HttpOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;  // 0: the kernel picks a free port
  unsigned io_threads = 1;
  unsigned workers = 2;  // threads that run Service::handle
  // How long a connection may take to send a request, stall while reading
  // a reply, or stay open idle between requests, before it is closed.
  unsigned idle_timeout_seconds = 30;
};

// Serves until SIGINT or SIGTERM. `on_listening` is called once the socket
// listens, with the port actually bound. Throws std::runtime_error if the
// address cannot be bound.
void run_http_server(const Service& service, const HttpOptions& options,
                     const std::function<void(unsigned short port)>& on_listening);

}  // namespace tessera
