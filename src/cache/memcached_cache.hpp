#pragma once
// Encoded responses shared through memcached (iipsrv's MEMCACHED_SERVERS), so
// that several Tessera processes, on one machine or behind a load balancer,
// render each tile once between them. It is the second tier behind the
// in-process ResponseCache.
//
// memcached is an optimisation that must never cost a request more than a
// few tens of milliseconds: every connect, send and receive is bounded by
// io_timeout, and a server that fails (refused, timed out, garbled) is left
// alone by every thread for retry_after before one request tries it again.
// A failure is a miss, never an error.
//
// Thread-safe: the worker threads share a pool of libmemcached clients, which
// stays inside the .cpp.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "serve/file_info.hpp"

namespace tessera {

struct MemcachedServer {
  std::string host;  // a name, an IPv4 address or an IPv6 address without brackets
  uint16_t port = 11211;
  bool operator==(const MemcachedServer&) const = default;
};

// MEMCACHED_SERVERS as iipsrv reads it: "host[:port]" entries separated by
// commas (or spaces), "[v6]:port" too, port 11211 when left out. Throws
// std::invalid_argument with a one-line reason for an entry that is not one.
std::vector<MemcachedServer> parse_memcached_servers(std::string_view text);

struct MemcachedOptions {
  std::vector<MemcachedServer> servers;
  uint32_t expiry_seconds = 86400;  // MEMCACHED_TIMEOUT; 0: until memcached evicts it
  std::chrono::milliseconds io_timeout{50};
  std::chrono::milliseconds retry_after{10'000};
  // memcached refuses items over its -I limit (1 MB by default), key and
  // bookkeeping included; larger responses are not sent at all.
  std::size_t max_item_bytes = 1'000'000;
  unsigned max_clients = 256;  // connections to each server at most
  // Told once each time a server starts being left alone (for the log).
  std::function<void(std::string_view)> on_server_failure;
};

// What memcached keeps of a response: its type and its bytes.
struct SharedResponse {
  std::string content_type;
  std::string body;
  bool operator==(const SharedResponse&) const = default;
};

struct MemcachedStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t stores = 0;
  uint64_t failures = 0;  // operations a server failed (then it is left alone)
  uint64_t skipped = 0;   // operations not tried: server left alone, or no free client
  uint64_t too_large = 0;
};

class MemcachedCache {
 public:
  // Throws std::invalid_argument when options.servers is empty. Connects to
  // nothing yet: a server down at start costs nothing more than one later.
  explicit MemcachedCache(MemcachedOptions options);
  ~MemcachedCache();
  MemcachedCache(const MemcachedCache&) = delete;
  MemcachedCache& operator=(const MemcachedCache&) = delete;

  // The response stored for `request` made from the file `file`, if any.
  // `request` names everything that decides the bytes but the file's
  // contents. Never throws; nothing for an unknown (all-zero) identity.
  std::optional<SharedResponse> get(std::string_view request, const FileIdentity& file) noexcept;
  // Stores it for MEMCACHED_TIMEOUT seconds, unless it is too large or the
  // identity is unknown. Never throws.
  void put(std::string_view request, const FileIdentity& file, std::string_view content_type,
           std::string_view body) noexcept;

  MemcachedStats stats() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// --- The item format, public for its tests ----------------------------------

// What an item stands for: the request and the file's inode, size and
// modification time. The device number is left out: it differs between
// machines mounting the same share.
std::string memcached_full_key(std::string_view request, const FileIdentity& file);

// The memcached key of a full key: "tessera:" and 32 hex digits of its MD5,
// within memcached's 250 bytes and free of spaces and control characters.
std::string memcached_item_key(std::string_view full_key);

// The item: a header with the lengths, the full key (checked on reading, so a
// hash collision or another program's item under the same key is a miss),
// the content type and the body.
std::string encode_memcached_item(std::string_view full_key, std::string_view content_type,
                                  std::string_view body);
// The response in `item` if it is well formed and made for `full_key`.
std::optional<SharedResponse> decode_memcached_item(std::string_view item,
                                                    std::string_view full_key);

}  // namespace tessera
