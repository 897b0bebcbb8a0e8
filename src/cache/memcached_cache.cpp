#include "cache/memcached_cache.hpp"
#include "common/split.hpp"

#include <fmt/format.h>
#include <libhashkit-1.0/hashkit.h>
#include <libmemcached/memcached.h>
#include <libmemcached/util.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>

namespace tessera {

namespace {

[[noreturn]] void not_a_server(std::string_view entry) {
  throw std::invalid_argument(
      fmt::format("must be a list of host[:port] (port 1 to 65535), not '{}'", entry));
}

bool plausible_host(std::string_view host) {
  return !host.empty() && host.size() < 256 && std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  });
}

bool plausible_v6(std::string_view host) {
  return !host.empty() && host.size() < 64 && std::all_of(host.begin(), host.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
  });
}

uint16_t parse_port(std::string_view entry, std::string_view text) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1 || value > 65535) {
    not_a_server(entry);
  }
  return static_cast<uint16_t>(value);
}

using Clock = std::chrono::steady_clock;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// Answers of a server that works, whatever they say of the item.
bool healthy(memcached_return_t rc) {
  switch (rc) {
    case MEMCACHED_SUCCESS:
    case MEMCACHED_NOTFOUND:
    case MEMCACHED_NOTSTORED:
    case MEMCACHED_DATA_EXISTS:
    case MEMCACHED_E2BIG:
    case MEMCACHED_SERVER_MEMORY_ALLOCATION_FAILURE:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::vector<MemcachedServer> parse_memcached_servers(std::string_view text) {
  std::vector<MemcachedServer> servers;
  for (std::string_view entry : split_list(text)) {
    MemcachedServer server;
    std::string_view host = entry;
    std::string_view port;
    bool has_port = false;
    if (entry.front() == '[') {
      const std::size_t close = entry.find(']');
      if (close == std::string_view::npos) not_a_server(entry);
      host = entry.substr(1, close - 1);
      const std::string_view rest = entry.substr(close + 1);
      if (!rest.empty()) {
        if (rest.front() != ':') not_a_server(entry);
        port = rest.substr(1);
        has_port = true;
      }
      if (!plausible_v6(host)) not_a_server(entry);
    } else {
      const std::size_t colon = entry.find(':');
      if (colon != std::string_view::npos) {
        host = entry.substr(0, colon);
        port = entry.substr(colon + 1);
        has_port = true;
      }
      if (!plausible_host(host)) not_a_server(entry);
    }
    server.host = host;
    if (has_port) server.port = parse_port(entry, port);
    servers.push_back(std::move(server));
  }
  return servers;
}

std::string memcached_full_key(std::string_view request, const FileIdentity& file) {
  return fmt::format("{}\nfile {} {} {}", request, file.inode, file.size, file.mtime_ns);
}

std::string memcached_item_key(std::string_view full_key) {
  unsigned char digest[16];
  libhashkit_md5_signature(reinterpret_cast<const unsigned char*>(full_key.data()), full_key.size(),
                           digest);
  std::string key = "tessera:";
  for (unsigned char byte : digest) key += fmt::format("{:02x}", byte);
  return key;
}

namespace {

constexpr std::string_view kItemMagic = "tessera-response/1 ";

}  // namespace

std::string encode_memcached_item(std::string_view full_key, std::string_view content_type,
                                  std::string_view body) {
  std::string item = fmt::format("{}{} {}\n", kItemMagic, full_key.size(), content_type.size());
  item.reserve(item.size() + full_key.size() + content_type.size() + body.size());
  item += full_key;
  item += content_type;
  item += body;
  return item;
}

std::optional<SharedResponse> decode_memcached_item(std::string_view item,
                                                    std::string_view full_key) {
  if (!item.starts_with(kItemMagic)) return std::nullopt;
  item.remove_prefix(kItemMagic.size());
  const std::size_t newline = item.find('\n');
  if (newline == std::string_view::npos) return std::nullopt;
  const std::string_view header = item.substr(0, newline);
  item.remove_prefix(newline + 1);

  std::size_t key_size = 0, type_size = 0;
  const char* const end = header.data() + header.size();
  auto [p, ec] = std::from_chars(header.data(), end, key_size);
  if (ec != std::errc() || p == end || *p != ' ') return std::nullopt;
  auto [q, ec2] = std::from_chars(p + 1, end, type_size);
  if (ec2 != std::errc() || q != end) return std::nullopt;
  if (key_size > item.size() || type_size > item.size() - key_size) return std::nullopt;

  if (item.substr(0, key_size) != full_key) return std::nullopt;
  item.remove_prefix(key_size);
  SharedResponse response;
  response.content_type = item.substr(0, type_size);
  response.body = item.substr(type_size);
  return response;
}

// --- the client --------------------------------------------------------------

struct MemcachedCache::Impl {
  MemcachedOptions options;
  memcached_st* master = nullptr;
  memcached_pool_st* pool = nullptr;
  // Per server, by its position in libmemcached's list (the same in every
  // client of the pool): 0 while it is in use, else when it may be tried
  // again. Shared by all clients, so one timeout spares every thread.
  std::unique_ptr<std::atomic<int64_t>[]> retry_at_ns;
  // Counts server failures. A client whose connections are older than the
  // last one drops them before its next operation: after a memcached restart
  // they are all dead, and each client would otherwise fail once on its own.
  // Each client keeps the count it last saw as its user data.
  std::atomic<uint64_t> failure_epoch{0};

  std::atomic<uint64_t> hits{0}, misses{0}, stores{0}, failures{0}, skipped{0}, too_large{0};

  ~Impl() {
    if (pool != nullptr) memcached_pool_destroy(pool);
    if (master != nullptr) memcached_free(master);
  }

  struct Target {
    uint32_t index;  // of the server that holds the key
    bool probe;      // the one operation trying a server that failed
  };

  // The server that holds `key`, or nullopt while it is left alone. When its
  // time is up, one operation alone tries it again: the others keep skipping
  // it until that one has an answer, so a stalled server costs one timeout
  // per retry_after, not one per thread.
  std::optional<Target> target(memcached_st* client, const std::string& key) {
    const uint64_t epoch = failure_epoch.load();
    if (reinterpret_cast<uintptr_t>(memcached_get_user_data(client)) != epoch) {
      memcached_quit(client);
      memcached_set_user_data(client, reinterpret_cast<void*>(uintptr_t(epoch)));
    }
    const uint32_t index = memcached_generate_hash(client, key.data(), key.size());
    if (index >= options.servers.size()) return std::nullopt;
    int64_t retry_at = retry_at_ns[index].load(std::memory_order_relaxed);
    if (retry_at == 0) return Target{index, false};
    const int64_t now = now_ns();
    if (retry_at > now) return std::nullopt;
    if (!retry_at_ns[index].compare_exchange_strong(retry_at, now + retry_after_ns())) {
      return std::nullopt;
    }
    return Target{index, true};
  }

  int64_t retry_after_ns() const {
    return std::max<int64_t>(
        1, std::chrono::duration_cast<std::chrono::nanoseconds>(options.retry_after).count());
  }

  // The server answered: a probe puts it back in use.
  void server_answered(const Target& target) {
    if (target.probe) retry_at_ns[target.index].store(0);
  }

  // A server failed an operation of `client`: its connections may still
  // bring a late answer that would be read as the next request's, so they are
  // closed, and the server is left alone for retry_after.
  void server_failed(memcached_st* client, const Target& target, memcached_return_t rc) {
    failures.fetch_add(1, std::memory_order_relaxed);
    const std::string reason = memcached_strerror(client, rc);
    std::string name = "server";
    if (const memcached_instance_st* server =
            memcached_server_instance_by_position(client, target.index)) {
      name = fmt::format("{}:{}", memcached_server_name(server), memcached_server_port(server));
    }
    memcached_quit(client);
    const uint64_t epoch = failure_epoch.fetch_add(1) + 1;
    memcached_set_user_data(client, reinterpret_cast<void*>(uintptr_t(epoch)));
    const int64_t previous = retry_at_ns[target.index].exchange(now_ns() + retry_after_ns());
    // Told once per spell: not again by a probe, nor by the other threads
    // whose operations were already under way when it failed.
    if (previous == 0 && options.on_server_failure) {
      options.on_server_failure(fmt::format("memcached {} failed ({}); not used for {} ms", name,
                                            reason, options.retry_after.count()));
    }
  }
};

namespace {

// A client of the pool for one operation, given back on every path.
class Lease {
 public:
  explicit Lease(memcached_pool_st* pool) : pool_(pool) {
    memcached_return_t rc;
    // Without waiting: a pool used up is a miss, not a queue.
    client_ = memcached_pool_fetch(pool_, nullptr, &rc);
  }
  ~Lease() {
    if (client_ != nullptr) memcached_pool_release(pool_, client_);
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  memcached_st* get() const { return client_; }

 private:
  memcached_pool_st* pool_;
  memcached_st* client_ = nullptr;
};

}  // namespace

MemcachedCache::MemcachedCache(MemcachedOptions options) : impl_(std::make_unique<Impl>()) {
  Impl& d = *impl_;
  d.options = std::move(options);
  const MemcachedOptions& o = d.options;
  if (o.servers.empty()) throw std::invalid_argument("memcached needs at least one server");

  d.master = memcached_create(nullptr);
  if (d.master == nullptr) throw std::runtime_error("memcached_create failed");
  for (const MemcachedServer& server : o.servers) {
    const memcached_return_t rc = memcached_server_add(d.master, server.host.c_str(), server.port);
    if (rc != MEMCACHED_SUCCESS) {
      throw std::invalid_argument(fmt::format("memcached server {}:{}: {}", server.host,
                                              server.port, memcached_strerror(d.master, rc)));
    }
  }
  const uint64_t timeout_ms = std::max<int64_t>(1, o.io_timeout.count());
  const auto set = [&](memcached_behavior_t flag, uint64_t value) {
    memcached_behavior_set(d.master, flag, value);
  };
  set(MEMCACHED_BEHAVIOR_NO_BLOCK, 1);
  set(MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
  set(MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, timeout_ms);
  set(MEMCACHED_BEHAVIOR_POLL_TIMEOUT, timeout_ms);
  set(MEMCACHED_BEHAVIOR_SND_TIMEOUT, timeout_ms * 1000);  // microseconds
  set(MEMCACHED_BEHAVIOR_RCV_TIMEOUT, timeout_ms * 1000);
  // Which server holds a key must not depend on the order the servers are
  // listed in, nor shift every key when one is added: consistent hashing, as
  // other ketama clients of the same servers do it.
  set(MEMCACHED_BEHAVIOR_KETAMA, 1);
  // libmemcached notices refused connections but not a server that accepts
  // and then stalls; retry_at_ns covers both, so its own back-off is off.
  set(MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, 0);

  d.retry_at_ns = std::make_unique<std::atomic<int64_t>[]>(o.servers.size());
  for (std::size_t i = 0; i < o.servers.size(); ++i) d.retry_at_ns[i].store(0);

  d.pool = memcached_pool_create(d.master, 1, std::max(1u, o.max_clients));
  if (d.pool == nullptr) throw std::runtime_error("memcached_pool_create failed");
}

MemcachedCache::~MemcachedCache() = default;

std::optional<SharedResponse> MemcachedCache::get(std::string_view request,
                                                  const FileIdentity& file) noexcept {
  Impl& d = *impl_;
  if (file == FileIdentity{}) return std::nullopt;
  try {
    const std::string full_key = memcached_full_key(request, file);
    const std::string key = memcached_item_key(full_key);
    Lease lease(d.pool);
    const auto target = lease.get() ? d.target(lease.get(), key) : std::nullopt;
    if (!target) {
      d.skipped.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    std::size_t length = 0;
    uint32_t flags = 0;
    memcached_return_t rc = MEMCACHED_SUCCESS;
    const std::unique_ptr<char, decltype(&std::free)> value(
        memcached_get(lease.get(), key.data(), key.size(), &length, &flags, &rc), &std::free);
    if (!healthy(rc)) {
      d.server_failed(lease.get(), *target, rc);
      return std::nullopt;
    }
    d.server_answered(*target);
    if (rc == MEMCACHED_SUCCESS && value != nullptr) {
      auto response = decode_memcached_item(std::string_view(value.get(), length), full_key);
      if (response) {
        d.hits.fetch_add(1, std::memory_order_relaxed);
        return response;
      }
    }
    d.misses.fetch_add(1, std::memory_order_relaxed);
  } catch (...) {
    // Out of memory for a copy: as good as a miss.
  }
  return std::nullopt;
}

void MemcachedCache::put(std::string_view request, const FileIdentity& file,
                         std::string_view content_type, std::string_view body) noexcept {
  Impl& d = *impl_;
  if (file == FileIdentity{}) return;
  try {
    const std::string full_key = memcached_full_key(request, file);
    // Measured before the item is made: a huge body costs no copy.
    if (full_key.size() + content_type.size() + body.size() + 64 > d.options.max_item_bytes) {
      d.too_large.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const std::string key = memcached_item_key(full_key);
    const std::string item = encode_memcached_item(full_key, content_type, body);
    Lease lease(d.pool);
    const auto target = lease.get() ? d.target(lease.get(), key) : std::nullopt;
    if (!target) {
      d.skipped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const memcached_return_t rc = memcached_set(lease.get(), key.data(), key.size(), item.data(),
                                                item.size(), time_t(d.options.expiry_seconds), 0);
    if (!healthy(rc)) {
      d.server_failed(lease.get(), *target, rc);
      return;
    }
    d.server_answered(*target);
    if (rc == MEMCACHED_SUCCESS) {
      d.stores.fetch_add(1, std::memory_order_relaxed);
    } else if (rc == MEMCACHED_E2BIG) {
      d.too_large.fetch_add(1, std::memory_order_relaxed);
    }
  } catch (...) {
    // Out of memory for the item: it is simply not shared.
  }
}

MemcachedStats MemcachedCache::stats() const noexcept {
  const Impl& d = *impl_;
  MemcachedStats s;
  s.hits = d.hits.load();
  s.misses = d.misses.load();
  s.stores = d.stores.load();
  s.failures = d.failures.load();
  s.skipped = d.skipped.load();
  s.too_large = d.too_large.load();
  return s;
}

}  // namespace tessera
