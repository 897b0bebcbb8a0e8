#pragma once
// Open images and their metadata, kept between requests. Opening a TIFF
// reads every level's header and an OpenJPEG file its main header: work worth
// doing once per file, not once per tile.
//
// Each cached file holds its ImageInfo and a small pool of idle open
// ImageSources. acquire() lends one source to one caller at a time (an
// ImageSource is single-threaded), opening another when all are lent, so that
// concurrent requests for one file do not queue on one libtiff handle. Every
// call stat()s the file: a changed device, inode, size or mtime makes a new
// entry, and sources of the old file are never lent again.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "cache/lru_cache.hpp"
#include "image/image_source.hpp"
#include "serve/file_info.hpp"

namespace tessera {

struct ImageCacheOptions {
  // MAX_METADATA_CACHE_SIZE, as iipsrv means it: how many files' metadata to
  // keep (an entry count, default 1000); 0 keeps none, and every call opens.
  std::size_t max_entries = 1000;
  // Idle open sources kept per file, and in all. A lent source beyond these
  // is closed when its lease ends. Each idle TIFF handle costs a few tens of
  // KB (libtiff's directory and tile buffers).
  std::size_t max_idle_per_file = 4;
  std::size_t max_idle_total = 256;
  // How a file is opened; tests substitute a counting opener.
  // Empty: open_image() with default options.
  std::function<std::unique_ptr<ImageSource>(const std::filesystem::path&)> open;
};

class ImageCache;

namespace detail {
struct ImageEntry;
struct ImagePool;
}  // namespace detail

// Exclusive use of one open ImageSource until the lease ends, when the
// source goes back to its file's idle pool (or is closed if the pool is full
// or the file has changed since). Not thread-safe itself: one lease, one
// thread at a time, like the source it lends.
class ImageLease {
 public:
  ImageLease() = default;
  ImageLease(ImageLease&&) noexcept = default;
  ImageLease& operator=(ImageLease&& other) noexcept;
  ~ImageLease();

  explicit operator bool() const noexcept { return source_ != nullptr; }
  ImageSource& source() const noexcept { return *source_; }
  ImageSource& operator*() const noexcept { return *source_; }
  ImageSource* operator->() const noexcept { return source_.get(); }

  // The identity of the file as it was when the source was opened: the key
  // for caches of what is derived from this file. All zero when the file
  // changed while it was being opened (the caches then keep nothing).
  const FileIdentity& identity() const noexcept;
  // The same metadata as source().info(), shareable past the lease.
  const std::shared_ptr<const ImageInfo>& info() const noexcept;

 private:
  friend class ImageCache;
  ImageLease(std::shared_ptr<const detail::ImageEntry> entry, std::unique_ptr<ImageSource> source)
      : entry_(std::move(entry)), source_(std::move(source)) {}
  void release() noexcept;

  std::shared_ptr<const detail::ImageEntry> entry_;
  std::unique_ptr<ImageSource> source_;
};

class ImageCache {
 public:
  explicit ImageCache(ImageCacheOptions options = {});
  ~ImageCache();

  ImageCache(const ImageCache&) = delete;
  ImageCache& operator=(const ImageCache&) = delete;

  // An open source of the file at `path` as it is now, for the caller alone.
  // Throws what open_image() throws (Error 404 when the file is missing).
  ImageLease acquire(const std::filesystem::path& path);
  // The same, for a caller that has just taken file_identity(path) itself
  // (to look up a response cache first) and so saves a second stat().
  ImageLease acquire(const std::filesystem::path& path, const FileIdentity& identity);

  // The metadata of the file at `path` as it is now, without lending a
  // source (one is opened on a miss and left idle for the next acquire).
  std::shared_ptr<const ImageInfo> info(const std::filesystem::path& path);
  // The same for a caller that has just taken file_identity(path).
  std::shared_ptr<const ImageInfo> info(const std::filesystem::path& path,
                                        const FileIdentity& identity);
  // The metadata if it is known for the file as `identity` says it is now;
  // null otherwise. Never opens the file.
  std::shared_ptr<const ImageInfo> cached_info(const std::filesystem::path& path,
                                               const FileIdentity& identity);

  struct Stats {
    CacheStats files;    // hits: the file's entry was current
    uint64_t opens = 0;  // sources opened (misses, and all lent)
    std::size_t idle_sources = 0;
  };
  Stats stats() const;

 private:
  std::unique_ptr<ImageSource> open(const std::filesystem::path& path);

  ImageCacheOptions options_;
  // Counters and limits that entries (and so leases) still reach after the
  // cache itself is gone.
  std::shared_ptr<detail::ImagePool> pool_;
  ShardedLruCache<std::string, detail::ImageEntry> entries_;
};

}  // namespace tessera
