#pragma once
// HTTP dates (RFC 9110 IMF-fixdate), as Last-Modified and If-Modified-Since use.

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace tessera {

std::string format_http_date(std::time_t t);
std::optional<std::time_t> parse_http_date(std::string_view text);

}  // namespace tessera
