#include "serve/cgi.hpp"

#include <fmt/format.h>
#include <strings.h>

#include <array>
#include <cctype>
#include <cstring>
#include <optional>

#include "common/error.hpp"
#include "protocol/percent.hpp"

namespace tessera {

namespace {

std::optional<std::string_view> param(const char* const* envp, std::string_view name) {
  if (envp == nullptr) return std::nullopt;
  for (const char* const* p = envp; *p != nullptr; ++p) {
    const std::string_view entry(*p);
    if (entry.size() > name.size() && entry[name.size()] == '=' &&
        entry.compare(0, name.size(), name) == 0) {
      return entry.substr(name.size() + 1);
    }
  }
  return std::nullopt;
}

std::string_view param_or(const char* const* envp, std::string_view name,
                          std::string_view fallback = {}) {
  return param(envp, name).value_or(fallback);
}

// Re-encodes a path the web server decoded: only what cannot stand raw in a
// path ('%', '?', '#', spaces, controls, non-ASCII) becomes %XX; commas,
// colons and the like stay, as clients send them.
std::string encode_decoded_path(std::string_view decoded) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(decoded.size());
  for (char c : decoded) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '%' || c == '?' || c == '#') {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

bool decodes_to(std::string_view encoded, std::string_view decoded) {
  try {
    return percent_decode(encoded) == decoded;
  } catch (const Error&) {
    return false;  // a malformed escape: not what the server routed
  }
}

std::string request_path(const char* const* envp) {
  const std::string_view uri = param_or(envp, "REQUEST_URI");
  const std::string_view raw = uri.substr(0, uri.find('?'));
  std::string effective(param_or(envp, "SCRIPT_NAME"));
  effective += param_or(envp, "PATH_INFO");

  const bool raw_usable = !raw.empty() && raw.front() == '/';
  if (raw_usable) {
    // Apache may pass PATH_INFO still encoded (AllowEncodedSlashes NoDecode):
    // compare both ways.
    if (effective.empty() || decodes_to(raw, effective)) return std::string(raw);
    try {
      if (percent_decode(raw) == percent_decode(effective)) return std::string(raw);
    } catch (const Error&) {
    }
  }
  if (!effective.empty()) {
    std::string path = encode_decoded_path(effective);
    return path.front() == '/' ? path : "/" + path;
  }
  return raw_usable ? std::string(raw) : std::string("/");
}

// iipsrv's query-string protocols: a command among the '&'-joined pairs.
bool is_iipsrv_query(std::string_view query) {
  static constexpr std::array<std::string_view, 5> kCommands = {"fif", "obj", "iiif", "deepzoom",
                                                                "zoomify"};
  std::size_t start = 0;
  while (start <= query.size()) {
    const std::size_t end = std::min(query.find('&', start), query.size());
    const std::string_view pair = query.substr(start, end - start);
    const std::string_view name = pair.substr(0, pair.find('='));
    for (std::string_view command : kCommands) {
      if (name.size() == command.size() &&
          strncasecmp(name.data(), command.data(), name.size()) == 0) {
        return true;
      }
    }
    start = end + 1;
  }
  return false;
}

std::string header_name(std::string_view cgi_name) {
  std::string name(cgi_name);
  for (char& c : name) c = c == '_' ? '-' : char(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

bool ieq(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool splits_lines(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

}  // namespace

Request request_from_cgi(const char* const* envp) {
  Request request;
  request.method = std::string(param_or(envp, "REQUEST_METHOD", "GET"));
  request.query = std::string(param_or(envp, "QUERY_STRING"));
  request.path = request_path(envp);
  if (request.path != "/iip" && is_iipsrv_query(request.query)) {
    request.path = std::string(kIipsrvScriptPath);
  }

  bool forwarded_proto = false;
  for (const char* const* p = envp; p != nullptr && *p != nullptr; ++p) {
    const std::string_view entry(*p);
    const std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = entry.substr(0, eq);
    const std::string_view value = entry.substr(eq + 1);
    if (name.size() > 5 && name.substr(0, 5) == "HTTP_") {
      request.headers.emplace_back(header_name(name.substr(5)), std::string(value));
      forwarded_proto = forwarded_proto || name == "HTTP_X_FORWARDED_PROTO";
    } else if ((name == "CONTENT_TYPE" || name == "CONTENT_LENGTH") && !value.empty()) {
      request.headers.emplace_back(header_name(name), std::string(value));
    }
  }
  if (!forwarded_proto && (ieq(param_or(envp, "HTTPS"), "on") || param_or(envp, "HTTPS") == "1" ||
                           ieq(param_or(envp, "REQUEST_SCHEME"), "https"))) {
    request.headers.emplace_back("x-forwarded-proto", "https");
  }
  return request;
}

bool cgi_reply_has_body(std::string_view method, int status) {
  return method != "HEAD" && status >= 200 && status != 204 && status != 304;
}

std::string cgi_reply_head(const Response& response) {
  std::string head =
      fmt::format("Status: {} {}\r\n", response.status, reason_phrase(response.status));
  for (const auto& [name, value] : response.headers) {
    if (name.empty() || splits_lines(name) || splits_lines(value)) continue;
    if (ieq(name, "Content-Length") || ieq(name, "Status")) continue;
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  if (response.status >= 200 && response.status != 204 && response.status != 304) {
    head += fmt::format("Content-Length: {}\r\n", response.content().size());
  }
  head += "\r\n";
  return head;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

}  // namespace tessera
