#include "cache/response_cache.hpp"

#include <cmath>
#include <limits>

namespace tessera {

namespace {

constexpr double kIipsrvMegabyte = 1024000.0;
constexpr std::size_t kEntryOverhead = 192;
// A typical tile response, to size the shards.
constexpr std::size_t kTypicalResponse = 16 * 1024;

}  // namespace

std::size_t ResponseKeyHash::operator()(const ResponseKey& key) const noexcept {
  std::size_t h = std::hash<std::string>{}(key.request);
  hash_mix(h, std::hash<uint64_t>{}(key.file.inode));
  hash_mix(h, std::hash<uint64_t>{}(key.file.device));
  hash_mix(h, std::hash<uint64_t>{}(key.file.size));
  hash_mix(h, std::hash<int64_t>{}(key.file.mtime_ns));
  return h;
}

ResponseCache::ResponseCache(std::size_t budget_bytes)
    : responses_(budget_bytes, 16, kTypicalResponse) {}

std::size_t ResponseCache::budget_from_megabytes(double megabytes) noexcept {
  if (!std::isfinite(megabytes) || megabytes <= 0) return 0;
  const double bytes = megabytes * kIipsrvMegabyte;
  if (bytes >= double(std::numeric_limits<std::size_t>::max())) {
    return std::numeric_limits<std::size_t>::max();
  }
  return std::size_t(bytes);
}

std::size_t ResponseCache::charge(const std::string& request,
                                  const CachedResponse& response) noexcept {
  std::size_t bytes = kEntryOverhead + 2 * request.size() + response.body.size();
  for (const auto& [name, value] : response.headers) bytes += name.size() + value.size() + 64;
  return bytes;
}

std::shared_ptr<const CachedResponse> ResponseCache::get(const std::string& request,
                                                         const FileIdentity& file) {
  if (!enabled() || file == FileIdentity{}) return nullptr;
  return responses_.get(ResponseKey{request, file});
}

void ResponseCache::put(std::string request, const FileIdentity& file,
                        std::shared_ptr<const CachedResponse> response) {
  if (!enabled() || !response || file == FileIdentity{}) return;
  const std::size_t bytes = charge(request, *response);
  responses_.put(ResponseKey{std::move(request), file}, std::move(response), bytes);
}

}  // namespace tessera
