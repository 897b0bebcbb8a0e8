#pragma once
// A minimal blocking HTTP/1.1 client for end-to-end tests.

#include <map>
#include <string>

namespace tessera::testing {

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// Sends one request on a new connection to 127.0.0.1:port. `target` is sent
// as is (no encoding), so tests can send malformed paths.
HttpResult http_request(unsigned short port, const std::string& method, const std::string& target,
                        const std::map<std::string, std::string>& headers = {});

inline HttpResult http_get(unsigned short port, const std::string& target,
                           const std::map<std::string, std::string>& headers = {}) {
  return http_request(port, "GET", target, headers);
}

// Sends raw bytes and returns whatever the server answers before closing or
// a timeout: for malformed-request tests.
std::string raw_exchange(unsigned short port, const std::string& bytes);

}  // namespace tessera::testing
