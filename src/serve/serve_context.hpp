#pragma once
// What every endpoint works with: the configuration, the resolver and the
// shared caches. The Service owns them; endpoints borrow them per request.

#include "serve/config.hpp"
#include "serve/resolver.hpp"

namespace tessera {

class ImageCache;
class TileCache;
class ResponseCache;
class MemcachedCache;
struct Watermark;

struct ServeContext {
  const Config& config;
  const Resolver& resolver;
  ImageCache& images;        // open files and their metadata
  TileCache& tiles;          // decoded stored tiles
  ResponseCache& responses;  // encoded responses
  // Encoded responses shared with other processes (MEMCACHED_SERVERS); null
  // when none is configured.
  MemcachedCache* shared_responses = nullptr;
  // WATERMARK, read at start-up; null when none is configured.
  const Watermark* watermark = nullptr;
  // Answer only from what is in memory (see Service::handle_from_memory):
  // a reply not in the response cache comes back as needs_worker, and
  // whatever else would open a file or walk folders throws NeedsWorker.
  bool memory_only = false;
};

// Thrown under ServeContext::memory_only by what must not run on an I/O
// thread; the request is then handled again on a worker.
struct NeedsWorker {};

}  // namespace tessera
