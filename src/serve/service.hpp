#pragma once
// The whole server as one function: Service::handle(Request) -> Response.
// Both network fronts call it from worker threads, and most end-to-end
// behaviour can be tested by calling it directly.

#include "serve/config.hpp"
#include "serve/request.hpp"

namespace tessera {

class Service {
 public:
  explicit Service(Config config);

  // Thread-safe; never throws: every failure becomes an error response.
  Response handle(const Request& request) const noexcept;

  const Config& config() const noexcept { return config_; }

 private:
  Config config_;
};

}  // namespace tessera
