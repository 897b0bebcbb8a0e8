#include "common/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera {

namespace {

// One parallel_for call: pieces are claimed by index, by the caller and by
// whichever helpers pick the batch up.
struct Batch {
  explicit Batch(std::size_t count, const std::function<void(std::size_t)>& fn)
      : n(count), work(fn) {}

  const std::size_t n;
  const std::function<void(std::size_t)>& work;  // valid while pieces are unclaimed
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> done{0};
  std::mutex mutex;
  std::condition_variable finished;
  std::exception_ptr error;

  // Runs pieces until none is left to claim. Once every piece is claimed
  // `work` is never touched again, so a helper that picks up a finished
  // batch after its caller returned does nothing.
  void run() {
    for (std::size_t i = next++; i < n; i = next++) {
      try {
        work(i);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!error) error = std::current_exception();
      }
      if (++done == n) {
        std::lock_guard lock(mutex);
        finished.notify_all();
      }
    }
  }
};

class Pool {
 public:
  explicit Pool(unsigned helpers) {
    for (unsigned i = 0; i < helpers; ++i) threads_.emplace_back([this] { serve(); });
  }

  ~Pool() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  std::size_t helpers() const noexcept { return threads_.size(); }

  void offer(const std::shared_ptr<Batch>& batch, std::size_t helpers_wanted) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(batch);
    }
    for (std::size_t i = 0; i < helpers_wanted; ++i) wake_.notify_one();
  }

  // Drops a batch whose pieces are all claimed, if a helper has not already.
  void retire(const std::shared_ptr<Batch>& batch) {
    std::lock_guard lock(mutex_);
    std::erase(queue_, batch);
  }

 private:
  void serve() {
    for (;;) {
      std::shared_ptr<Batch> batch;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        batch = queue_.front();
      }
      batch->run();
      retire(batch);
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Batch>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

Pool& pool() {
  static Pool instance(std::max(1u, std::thread::hardware_concurrency()) - 1);
  return instance;
}

// parallel_for calls running now. When there are as many as cores (this one
// included), every core already has a caller to run pieces for: handing
// pieces to a helper would only add a wake-up and a thread switch per call,
// and a third thread on two cores.
std::atomic<unsigned> g_running{0};
// Threads inside a BusyScope.
std::atomic<unsigned> g_busy{0};

}  // namespace

void parallel_for(std::size_t n, const std::function<void(std::size_t)>& work) {
  Pool& helpers = pool();
  if (n == 0) return;
  struct Running {
    const unsigned before = g_running.fetch_add(1, std::memory_order_relaxed);
    ~Running() { g_running.fetch_sub(1, std::memory_order_relaxed); }
  } running;
  auto batch = std::make_shared<Batch>(n, work);
  const unsigned cores = unsigned(helpers.helpers()) + 1;
  const bool cores_busy =
      running.before + 1 >= cores || g_busy.load(std::memory_order_relaxed) >= cores;
  if (n == 1 || helpers.helpers() == 0 || cores_busy) {
    batch->run();
    if (batch->error) std::rethrow_exception(batch->error);
    return;
  }
  helpers.offer(batch, std::min(n - 1, helpers.helpers()));
  batch->run();
  {
    std::unique_lock lock(batch->mutex);
    batch->finished.wait(lock, [&] { return batch->done.load() == n; });
  }
  helpers.retire(batch);
  if (batch->error) std::rethrow_exception(batch->error);
}

BusyScope::BusyScope() noexcept { g_busy.fetch_add(1, std::memory_order_relaxed); }
BusyScope::~BusyScope() { g_busy.fetch_sub(1, std::memory_order_relaxed); }

}  // namespace tessera
