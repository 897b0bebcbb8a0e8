#pragma once
// A least-recently-used cache of immutable values, bounded by a budget of
// "charge" (bytes, for most users; one per entry for a cache that counts
// entries). It is split into shards, each with its own mutex and its own share
// of the budget, so that worker threads asking for different keys rarely
// wait on each other and never on one global lock. Values are handed out as
// shared_ptr<const V>: an evicted value lives on for as long as a caller
// still holds it, and is never changed under a reader.
//
// Budget 0 disables the cache: get() always misses and put() stores nothing.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tessera {

struct CacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t insertions = 0;
  uint64_t evictions = 0;  // entries dropped to make room (not replacements)
  std::size_t charge = 0;  // what the entries now held add up to
  std::size_t entries = 0;
};

template <class Key, class Value, class Hash = std::hash<Key>, class Equal = std::equal_to<Key>>
class ShardedLruCache {
 public:
  // `shards` is lowered when the budget is too small to give every shard
  // room for a few entries of `typical_charge`.
  explicit ShardedLruCache(std::size_t budget, std::size_t shards = 16,
                           std::size_t typical_charge = 1)
      : budget_(budget), shards_(shard_count_for(budget, shards, typical_charge)) {
    // Spread the budget exactly: the first (budget % n) shards get one more.
    const std::size_t n = shards_.size();
    for (std::size_t i = 0; i < n; ++i) shards_[i].budget = budget / n + (i < budget % n ? 1 : 0);
  }

  ShardedLruCache(const ShardedLruCache&) = delete;
  ShardedLruCache& operator=(const ShardedLruCache&) = delete;

  bool enabled() const noexcept { return budget_ > 0; }
  std::size_t budget() const noexcept { return budget_; }
  std::size_t shard_count() const noexcept { return shards_.size(); }

  // The value for `key`, now the most recently used; null on a miss.
  std::shared_ptr<const Value> get(const Key& key) {
    if (!enabled()) return nullptr;
    Shard& shard = shard_for(key);
    std::lock_guard lock(shard.mutex);
    const auto it = shard.index.find(key);
    if (it == shard.index.end()) {
      ++shard.misses;
      return nullptr;
    }
    ++shard.hits;
    shard.order.splice(shard.order.begin(), shard.order, it->second);
    return it->second->value;
  }

  // Stores `value` for `key` with its charge, replacing what was there, and
  // evicts the least recently used entries of its shard until the shard is
  // within budget. A value that alone exceeds its shard's budget is not
  // stored (false), and neither is a null value.
  bool put(const Key& key, std::shared_ptr<const Value> value, std::size_t charge) {
    return insert(key, std::move(value), charge, [](const Value&) { return false; }) != nullptr;
  }

  // Like put(), unless the entry already held for `key` satisfies
  // `keep(existing)`: then that entry is kept (and touched) and returned
  // instead. Returns what the cache now holds for `key`, or null when
  // nothing could be stored. Lets two threads that both missed agree on one
  // value.
  template <class Keep>
  std::shared_ptr<const Value> insert(const Key& key, std::shared_ptr<const Value> value,
                                      std::size_t charge, Keep keep) {
    if (!enabled()) return nullptr;
    Shard& shard = shard_for(key);
    // Dropped entries are destroyed after the lock is released: a value's
    // destructor may be slow (closing a file) or take locks of its own.
    // Moving list nodes cannot throw, so the shard stays consistent.
    std::list<Entry> dropped;
    std::lock_guard lock(shard.mutex);
    const auto it = shard.index.find(key);
    if (it != shard.index.end()) {
      if (it->second->value && keep(*it->second->value)) {
        shard.order.splice(shard.order.begin(), shard.order, it->second);
        return it->second->value;
      }
      shard.charge -= it->second->charge;
      dropped.splice(dropped.end(), shard.order, it->second);
      shard.index.erase(it);
    }
    if (!value || charge > shard.budget) return nullptr;
    shard.order.push_front(Entry{key, value, charge});
    try {
      shard.index.emplace(key, shard.order.begin());
    } catch (...) {
      shard.order.pop_front();
      throw;
    }
    shard.charge += charge;
    ++shard.insertions;
    while (shard.charge > shard.budget) {
      const auto last = std::prev(shard.order.end());
      shard.charge -= last->charge;
      shard.index.erase(last->key);
      dropped.splice(dropped.end(), shard.order, last);
      ++shard.evictions;
    }
    return value;
  }

  void erase(const Key& key) {
    Shard& shard = shard_for(key);
    std::list<Entry> dropped;
    std::lock_guard lock(shard.mutex);
    const auto it = shard.index.find(key);
    if (it == shard.index.end()) return;
    shard.charge -= it->second->charge;
    dropped.splice(dropped.end(), shard.order, it->second);
    shard.index.erase(it);
  }

  void clear() {
    for (Shard& shard : shards_) {
      std::list<Entry> dropped;
      std::lock_guard lock(shard.mutex);
      shard.index.clear();
      dropped.swap(shard.order);
      shard.charge = 0;
    }
  }

  // The counters summed over the shards; each shard is read consistently,
  // the sum is a snapshot only when nothing runs concurrently.
  CacheStats stats() const {
    CacheStats total;
    for (const Shard& shard : shards_) {
      std::lock_guard lock(shard.mutex);
      total.hits += shard.hits;
      total.misses += shard.misses;
      total.insertions += shard.insertions;
      total.evictions += shard.evictions;
      total.charge += shard.charge;
      total.entries += shard.index.size();
    }
    return total;
  }

 private:
  struct Entry {
    Key key;
    std::shared_ptr<const Value> value;
    std::size_t charge;
  };

  struct Shard {
    mutable std::mutex mutex;
    std::list<Entry> order;  // most recently used first
    std::unordered_map<Key, typename std::list<Entry>::iterator, Hash, Equal> index;
    std::size_t budget = 0;
    std::size_t charge = 0;
    uint64_t hits = 0, misses = 0, insertions = 0, evictions = 0;
  };

  static std::size_t shard_count_for(std::size_t budget, std::size_t shards,
                                     std::size_t typical_charge) {
    const std::size_t room = budget / (4 * std::max<std::size_t>(1, typical_charge));
    return std::clamp<std::size_t>(room, 1, std::max<std::size_t>(1, shards));
  }

  Shard& shard_for(const Key& key) {
    // The maps inside the shards use the same hash: take the shard from
    // well-mixed high bits so the two choices do not correlate.
    const uint64_t h = uint64_t(Hash{}(key)) * 0x9E3779B97F4A7C15ull;
    return shards_[(h >> 32) % shards_.size()];
  }

  std::size_t budget_;
  std::vector<Shard> shards_;
};

// Mixes `value`'s hash into `seed` (boost::hash_combine's recipe, 64-bit).
inline void hash_mix(std::size_t& seed, std::size_t value) noexcept {
  seed ^= value + 0x9E3779B97F4A7C15ull + (seed << 12) + (seed >> 4);
}

}  // namespace tessera
