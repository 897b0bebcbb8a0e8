#pragma once
// Deflate-compressed TIFF tiles of 8-bit samples, decoded without libtiff's
// codec: ISA-L inflates the stored bytes straight into the tile, and
// horizontal differencing (Predictor 2) is undone with vector adds. libtiff
// inflates with zlib (half ISA-L's speed on photographs, whose differenced
// samples are mostly literals; libdeflate, tried first, ~10 % slower than
// ISA-L) and undoes the predictor a byte at a time, which costs a quarter of
// the inflate itself. A random deflate tile is mostly these two steps and
// the JPEG encode after them.

#include <cstddef>
#include <cstdint>

namespace tessera {

// Inflates a zlib stream (TIFF Compression 8 or 32946) into exactly
// `out_bytes` bytes. False when the stream is corrupt or does not hold
// exactly that many bytes: the caller then lets libtiff decide.
bool inflate_tile(const uint8_t* stored, std::size_t stored_bytes, uint8_t* out,
                  std::size_t out_bytes);

// Undoes TIFF Predictor 2 on rows of 8-bit samples in place: each sample
// becomes the sum of itself and the same sample of the pixel before it.
// `width` pixels of `samples` interleaved samples per row, rows `stride`
// bytes apart. Runs two rows at a time with AVX2 where the CPU has it and
// `allow_avx2` (false: the SSE2 loops, which tests check as well).
void undo_horizontal_differencing(uint8_t* data, uint32_t width, uint32_t rows, int samples,
                                  std::size_t stride, bool allow_avx2 = true);

}  // namespace tessera
