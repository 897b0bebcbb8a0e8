#pragma once
// The whole server as one function: Service::handle(Request) -> Response.
// Both network fronts call it from worker threads, and most end-to-end
// behaviour can be tested by calling it directly.

#include <memory>
#include <optional>

#include "serve/config.hpp"
#include "serve/request.hpp"
#include "serve/resolver.hpp"
#include "serve/serve_context.hpp"

namespace tessera {

class ImageCache;
class TileCache;
class ResponseCache;
class MemcachedCache;
struct Watermark;

class Service {
 public:
  // Throws std::invalid_argument if the image root does not exist.
  explicit Service(Config config);
  ~Service();

  // Thread-safe; never throws: every failure becomes an error response.
  Response handle(const Request& request) const noexcept;

  // The same answer as handle(), when it can be given from memory alone (a
  // response cached in this process, a description of a file whose header
  // is cached, an error the resolver finds): cheap enough for a network
  // thread to give without handing the request to a worker. nullopt when it
  // would open a file, decode or reach memcached.
  std::optional<Response> handle_from_memory(const Request& request) const noexcept;

  const Config& config() const noexcept { return config_; }

 private:
  Response route(const Request& request, bool memory_only) const;
  // What every reply gets: CORS, Cache-Control, ETag, and 304 when the
  // client holds it already.
  void finish(const Request& request, Response& response) const;
  std::optional<Response> route_uri_map(const Request& request, const ServeContext& context) const;

  Config config_;
  Resolver resolver_;
  // Shared by all worker threads; each locks only its own shards.
  std::unique_ptr<ImageCache> images_;
  std::unique_ptr<TileCache> tiles_;
  std::unique_ptr<ResponseCache> responses_;
  std::unique_ptr<MemcachedCache> memcached_;  // null without MEMCACHED_SERVERS
  std::unique_ptr<Watermark> watermark_;       // null without WATERMARK
};

}  // namespace tessera
