#include "cache/image_cache.hpp"

#include <atomic>
#include <mutex>
#include <vector>

namespace tessera {

namespace detail {

struct ImagePool {
  std::size_t max_idle_per_file = 0;
  std::size_t max_idle_total = 0;
  std::atomic<std::size_t> idle{0};
  std::atomic<uint64_t> opens{0};
};

// One file as it was when first opened. Immutable but for its idle pool,
// which has its own lock: the LRU hands entries out as const.
struct ImageEntry {
  ImageEntry(FileIdentity identity, std::shared_ptr<const ImageInfo> info,
             std::shared_ptr<ImagePool> pool)
      : identity(identity), info(std::move(info)), pool(std::move(pool)) {}

  ~ImageEntry() { pool->idle -= idle.size(); }

  std::unique_ptr<ImageSource> take() const {
    std::lock_guard lock(mutex);
    if (idle.empty()) return nullptr;
    std::unique_ptr<ImageSource> source = std::move(idle.back());
    idle.pop_back();
    --pool->idle;
    return source;
  }

  // Keeps `source` idle if both limits allow it; else it is closed here,
  // outside the lock.
  void give_back(std::unique_ptr<ImageSource> source) const noexcept {
    std::unique_lock lock(mutex);
    if (idle.size() < pool->max_idle_per_file) {
      if (pool->idle.fetch_add(1) < pool->max_idle_total) {
        try {
          idle.push_back(std::move(source));
          return;
        } catch (...) {
          // No memory to keep it: close it like any surplus source.
        }
      }
      --pool->idle;
    }
    lock.unlock();
    source.reset();
  }

  const FileIdentity identity;
  const std::shared_ptr<const ImageInfo> info;
  const std::shared_ptr<ImagePool> pool;
  mutable std::mutex mutex;
  mutable std::vector<std::unique_ptr<ImageSource>> idle;
};

}  // namespace detail

ImageLease& ImageLease::operator=(ImageLease&& other) noexcept {
  if (this != &other) {
    release();
    entry_ = std::move(other.entry_);
    source_ = std::move(other.source_);
  }
  return *this;
}

ImageLease::~ImageLease() { release(); }

void ImageLease::release() noexcept {
  if (entry_ && source_) entry_->give_back(std::move(source_));
  source_.reset();
  entry_.reset();
}

const FileIdentity& ImageLease::identity() const noexcept { return entry_->identity; }

const std::shared_ptr<const ImageInfo>& ImageLease::info() const noexcept { return entry_->info; }

ImageCache::ImageCache(ImageCacheOptions options)
    : options_(std::move(options)),
      pool_(std::make_shared<detail::ImagePool>()),
      entries_(options_.max_entries, 16, 4) {
  pool_->max_idle_per_file = options_.max_idle_per_file;
  pool_->max_idle_total = options_.max_idle_total;
  if (!options_.open) {
    options_.open = [](const std::filesystem::path& path) { return open_image(path); };
  }
}

ImageCache::~ImageCache() = default;

std::unique_ptr<ImageSource> ImageCache::open(const std::filesystem::path& path) {
  std::unique_ptr<ImageSource> source = options_.open(path);
  ++pool_->opens;
  return source;
}

ImageLease ImageCache::acquire(const std::filesystem::path& path) {
  return acquire(path, file_identity(path));
}

ImageLease ImageCache::acquire(const std::filesystem::path& path, const FileIdentity& identity) {
  const std::string key = path.string();

  if (identity != FileIdentity{}) {
    if (const auto entry = entries_.get(key); entry && entry->identity == identity) {
      if (std::unique_ptr<ImageSource> source = entry->take())
        return ImageLease(entry, std::move(source));
    }
  }

  // Open, then stat again: if the file changed since `identity` was taken
  // the source may hold either version, so it is lent under no cached entry
  // and with an unknown (all-zero) identity, which no cache keys on.
  std::unique_ptr<ImageSource> source = open(path);
  const bool stable = identity != FileIdentity{} && file_identity(path) == identity;
  auto entry = std::make_shared<const detail::ImageEntry>(
      stable ? identity : FileIdentity{}, std::make_shared<const ImageInfo>(source->info()), pool_);
  if (!stable) return ImageLease(std::move(entry), std::move(source));
  // Another thread may have put a current entry in meanwhile (or this one
  // found every source of the current entry lent): join it, so that this
  // source ends up in that entry's pool.
  auto held = entries_.insert(key, entry, 1, [&](const detail::ImageEntry& existing) {
    return existing.identity == identity;
  });
  return ImageLease(held ? std::move(held) : std::move(entry), std::move(source));
}

std::shared_ptr<const ImageInfo> ImageCache::info(const std::filesystem::path& path) {
  return info(path, file_identity(path));
}

std::shared_ptr<const ImageInfo> ImageCache::info(const std::filesystem::path& path,
                                                  const FileIdentity& identity) {
  // Known metadata needs no source: taking one would open the file again
  // whenever every open source of it is lent out.
  if (auto known = cached_info(path, identity)) return known;
  return acquire(path, identity).info();
}

std::shared_ptr<const ImageInfo> ImageCache::cached_info(const std::filesystem::path& path,
                                                         const FileIdentity& identity) {
  if (identity == FileIdentity{}) return nullptr;
  const auto entry = entries_.get(path.string());
  return entry && entry->identity == identity ? entry->info : nullptr;
}

ImageCache::Stats ImageCache::stats() const {
  Stats stats;
  stats.files = entries_.stats();
  stats.opens = pool_->opens.load();
  stats.idle_sources = pool_->idle.load();
  return stats;
}

}  // namespace tessera
