#include "serve/entity_tag.hpp"

#include <fmt/format.h>

#include <functional>

namespace tessera {

namespace {

// The opaque part of a tag, without W/ and quotes.
std::string_view opaque(std::string_view tag) {
  if (tag.starts_with("W/")) tag.remove_prefix(2);
  if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"') {
    tag = tag.substr(1, tag.size() - 2);
  }
  return tag;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::string entity_tag(std::string_view body) {
  // libstdc++'s string hash is a fixed function of the bytes (not seeded
  // per process), fast on tile-sized bodies.
  return fmt::format("\"{:016x}-{:x}\"", std::hash<std::string_view>{}(body), body.size());
}

bool if_none_match_matches(std::string_view header, std::string_view tag) {
  const std::string_view wanted = opaque(tag);
  while (!header.empty()) {
    const std::size_t comma = header.find(',');
    const std::string_view item = trim(header.substr(0, comma));
    if (item == "*" || (!item.empty() && opaque(item) == wanted)) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace tessera
