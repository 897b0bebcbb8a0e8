#pragma once
// The one error type that crosses layers: bad input or a failure that a
// client must be told about. It carries the HTTP status that describes it and
// a one-line reason; serve/ turns it into a response in one place.

#include <stdexcept>
#include <string>

namespace tessera {

class Error : public std::runtime_error {
 public:
  Error(int status, const std::string& reason) : std::runtime_error(reason), status_(status) {}
  int status() const noexcept { return status_; }

 private:
  int status_;
};

// Shorthands for the statuses the layers raise most.
[[noreturn]] inline void bad_request(const std::string& reason) { throw Error(400, reason); }
[[noreturn]] inline void not_found(const std::string& reason) { throw Error(404, reason); }
[[noreturn]] inline void not_implemented(const std::string& reason) { throw Error(501, reason); }

}  // namespace tessera
