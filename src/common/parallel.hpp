#pragma once
// Spreading one request's independent pieces of work (the tiles of a region)
// over the machine's cores.

#include <cstddef>
#include <functional>

namespace tessera {

// Runs work(0) ... work(n - 1), each once, on the calling thread and on a
// process-wide pool of helper threads (one fewer than the cores), and returns
// when all have run. The caller works too, so it never waits for a helper
// that is busy elsewhere: under load every request decodes its own pieces.
// While as many calls run as there are cores, the pieces of a new one all
// run on its caller: the cores are busy anyway.
// If any piece throws, the first exception is rethrown here once all pieces
// have finished.
void parallel_for(std::size_t n, const std::function<void(std::size_t)>& work);

}  // namespace tessera
