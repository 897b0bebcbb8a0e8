#include "serve/public_url.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace tessera {

namespace {

bool plausible_host(std::string_view host) {
  return !host.empty() && host.size() < 256 && std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
           c == '[' || c == ']' || c == '_';
  });
}

// The first value of a possibly comma-separated header (proxies chain them).
std::string_view first_value(std::string_view value) {
  value = value.substr(0, value.find(','));
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  return value;
}

}  // namespace

std::string public_origin(const Request& request, const Config& config) {
  if (!config.base_url.empty()) {
    std::string base = config.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base;
  }
  std::string scheme = "http";
  const std::string_view proto = first_value(request.header("x-forwarded-proto"));
  if (proto == "https" || proto == "http") scheme = proto;

  std::string_view host = first_value(request.header("x-forwarded-host"));
  if (!plausible_host(host)) host = request.header("host");
  if (!plausible_host(host)) host = "localhost";
  return scheme + "://" + std::string(host);
}

}  // namespace tessera
