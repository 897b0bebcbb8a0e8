#pragma once
// What a call throws, as the tests ask it: the HTTP status of its Error
// (200 when it throws none) or the Error's one-line reason ("" for none).

#include <string>

#include "common/error.hpp"

namespace tessera::testing {

int status_of(auto&& f) {
  try {
    f();
    return 200;
  } catch (const Error& e) {
    return e.status();
  }
}

std::string reason_of(auto&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace tessera::testing
