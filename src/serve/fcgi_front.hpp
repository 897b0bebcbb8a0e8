#pragma once
// The FastCGI front (libfcgi): behind nginx, Apache mod_fcgid or lighttpd.
// Worker threads each hold one FCGX_Request and take turns accepting on the
// listening socket; each turns its request into a Request (serve/cgi.hpp),
// calls Service::handle and writes the reply. libfcgi stays inside the .cpp.
//
// The listening socket is either bound here (--bind HOST:PORT, [V6]:PORT,
// :PORT or a unix socket path) or the one on fd 0, as spawn-fcgi, mod_fcgid
// and lighttpd hand it over. SIGTERM, SIGINT and SIGUSR1 stop the server
// after the requests in progress are answered; SIGHUP is logged and ignored.

#include <functional>
#include <string>

#include "serve/service.hpp"

namespace tessera {

struct FcgiOptions {
  std::string bind;      // "" = the listening socket on fd 0
  int backlog = 2048;    // listen queue for `bind`
  unsigned workers = 2;  // threads that accept and run Service::handle
};

// True when fd 0 is a listening socket: we were started by spawn-fcgi, a web
// server, or as `tessera serve ... < socket`.
bool stdin_is_listening_socket();

// Serves until SIGTERM, SIGINT or SIGUSR1. `on_listening` is called once the
// socket accepts, with where it listens ("127.0.0.1:9000", "/run/t.sock", or
// "standard input"). Throws std::runtime_error if `bind` cannot be bound or
// no listening socket is on fd 0.
void run_fcgi_server(const Service& service, const FcgiOptions& options,
                     const std::function<void(const std::string& where)>& on_listening);

}  // namespace tessera
