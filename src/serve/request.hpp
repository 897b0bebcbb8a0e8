#pragma once
// The server as the fronts see it: a Request in, a Response out. Neither
// knows about sockets; http_front and (later) fcgi_front translate.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera {

struct Request {
  std::string method;  // "GET", "HEAD", ...
  std::string path;    // as sent, still percent-encoded, without the query
  std::string query;   // after '?', without it
  // Header names in lower case.
  std::vector<std::pair<std::string, std::string>> headers;

  // The value of header `name` (lower case), or "" when absent.
  const std::string& header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the body instead of `body`: bytes a cache holds, sent from
  // there without a copy. Read the body with content().
  std::shared_ptr<const std::string> shared_body;
  // Set instead of an answer by a handler asked to answer from memory only
  // (ServeContext::memory_only) whose reply is not there: the request goes
  // to a worker. Most requests of a random workload take this way, so it is
  // a value rather than a thrown NeedsWorker (an exception costs more than
  // the cache lookup it reports on).
  bool needs_worker = false;

  std::string_view content() const noexcept {
    return shared_body ? std::string_view(*shared_body) : std::string_view(body);
  }
  void clear_body() noexcept {
    body.clear();
    shared_body.reset();
  }

  void set_header(std::string name, std::string value);
  const std::string* find_header(std::string_view name) const;  // case-insensitive
};

// Splits "path?query" into its two parts.
std::pair<std::string, std::string> split_target(std::string_view target);

}  // namespace tessera
