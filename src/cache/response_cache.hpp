#pragma once
// Finished responses (status, headers, encoded body) keyed by the canonical
// request and the identity of the file it was made from: a repeated request
// for an unchanged file is answered without opening, decoding or encoding.
// Bounded by MAX_IMAGE_CACHE_SIZE, in iipsrv's unit.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cache/lru_cache.hpp"
#include "serve/file_info.hpp"

namespace tessera {

struct CachedResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct ResponseKey {
  std::string request;  // the canonical request, e.g. "iiif3/id/0,0,256,256/256,/0/default.jpg"
  FileIdentity file;
  bool operator==(const ResponseKey&) const = default;
};

struct ResponseKeyHash {
  std::size_t operator()(const ResponseKey& key) const noexcept;
};

class ResponseCache {
 public:
  // budget_bytes 0 disables the cache.
  explicit ResponseCache(std::size_t budget_bytes);

  // MAX_IMAGE_CACHE_SIZE is in iipsrv's megabytes of 1,024,000 bytes
  // (default 10); a negative or non-finite value counts as 0.
  static std::size_t budget_from_megabytes(double megabytes) noexcept;

  std::shared_ptr<const CachedResponse> get(const std::string& request, const FileIdentity& file);
  // Keeps `response` unless the file's identity is unknown (all zero).
  void put(std::string request, const FileIdentity& file,
           std::shared_ptr<const CachedResponse> response);

  bool enabled() const noexcept { return responses_.enabled(); }
  CacheStats stats() const { return responses_.stats(); }

  // What an entry costs against the budget: its strings and the bookkeeping.
  static std::size_t charge(const std::string& request, const CachedResponse& response) noexcept;

 private:
  ShardedLruCache<ResponseKey, CachedResponse, ResponseKeyHash> responses_;
};

}  // namespace tessera
