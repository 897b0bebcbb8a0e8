#include "image/deflate_tile.hpp"

#include <isa-l/igzip_lib.h>

#include <cstdint>
#include <cstring>
#include <memory>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace tessera {

namespace {

// Scalar, for the samples the vector loops leave.
void undo_row_scalar(uint8_t* row, std::size_t from, std::size_t bytes, int samples) {
  for (std::size_t i = std::max<std::size_t>(from, std::size_t(samples)); i < bytes; ++i) {
    row[i] = uint8_t(row[i] + row[i - std::size_t(samples)]);
  }
}

#if defined(__SSE2__)
// Prefix sums of every third byte within 16: shifts by 3, 6 and 12 bytes sum
// up to 8 earlier pixels, more than the 5 a vector holds.
inline __m128i prefix3(__m128i v) {
  v = _mm_add_epi8(v, _mm_slli_si128(v, 3));
  v = _mm_add_epi8(v, _mm_slli_si128(v, 6));
  return _mm_add_epi8(v, _mm_slli_si128(v, 12));
}

// The pixel in bytes 12-14 of `v`, repeated from byte 0 on.
inline __m128i repeat_last3(__m128i v) {
  __m128i t = _mm_and_si128(_mm_srli_si128(v, 12),
                            _mm_setr_epi8(-1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
  t = _mm_or_si128(t, _mm_slli_si128(t, 3));
  t = _mm_or_si128(t, _mm_slli_si128(t, 6));
  return _mm_or_si128(t, _mm_slli_si128(t, 12));
}

// RGB: five pixels (15 bytes) a step. Each store writes a 16th byte that
// the next step reads, so that step's bytes are loaded before it.
std::size_t undo_row_rgb(uint8_t* row, std::size_t bytes) {
  if (bytes < 16) return 0;
  __m128i carry = _mm_setzero_si128();
  __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row));
  std::size_t i = 0;
  for (;;) {
    const bool more = i + 31 <= bytes;
    const __m128i next = more ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + i + 15)) : v;
    const __m128i prefix = prefix3(v);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(row + i), _mm_add_epi8(prefix, carry));
    // The carry repeats a pixel, so the next one is this one plus the last
    // pixel of `prefix` repeated: one add per step depends on the step
    // before, the rest overlaps.
    carry = _mm_add_epi8(carry, repeat_last3(prefix));
    i += 15;
    if (!more) break;
    v = next;
  }
  // The last store ended at i + 1, its last byte (the first of the next
  // pixel) already summed: the scalar loop goes on after it.
  return i + 1;
}

#if defined(__x86_64__)
// Two rows at once where the CPU has AVX2 (the loops above otherwise): row
// `a` in the low 128-bit lane, row `b` in the high one. AVX2's byte shifts
// and shuffles stay within a lane, so each lane runs the single-row steps
// for its own row.

// 16 bytes of `a` to the low lane, 16 of `b` to the high one.
__attribute__((target("avx2"))) inline __m256i load_rows(const uint8_t* a, const uint8_t* b) {
  return _mm256_inserti128_si256(
      _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a))),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(b)), 1);
}

// The low lane to `a`, the high lane to `b`.
__attribute__((target("avx2"))) inline void store_rows(uint8_t* a, uint8_t* b, __m256i v) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(a), _mm256_castsi256_si128(v));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(b), _mm256_extracti128_si256(v, 1));
}

// RGB as undo_row_rgb, the last pixel repeated with one shuffle instead of
// four shifts. Returns where both rows' scalar remainder starts.
__attribute__((target("avx2"))) std::size_t undo_rows_rgb_avx2(uint8_t* a, uint8_t* b,
                                                               std::size_t bytes) {
  if (bytes < 16) return 0;
  const __m256i last =
      _mm256_setr_epi8(12, 13, 14, 12, 13, 14, 12, 13, 14, 12, 13, 14, 12, 13, 14, 12, 12, 13, 14,
                       12, 13, 14, 12, 13, 14, 12, 13, 14, 12, 13, 14, 12);
  __m256i carry = _mm256_setzero_si256();
  __m256i v = load_rows(a, b);
  std::size_t i = 0;
  for (;;) {
    const bool more = i + 31 <= bytes;
    const __m256i next = more ? load_rows(a + i + 15, b + i + 15) : v;
    __m256i prefix = _mm256_add_epi8(v, _mm256_slli_si256(v, 3));
    prefix = _mm256_add_epi8(prefix, _mm256_slli_si256(prefix, 6));
    prefix = _mm256_add_epi8(prefix, _mm256_slli_si256(prefix, 12));
    store_rows(a + i, b + i, _mm256_add_epi8(prefix, carry));
    carry = _mm256_add_epi8(carry, _mm256_shuffle_epi8(prefix, last));
    i += 15;
    if (!more) break;
    v = next;
  }
  return i + 1;
}

// Grey (P = 1) and RGBA (P = 4), two rows at once as above: 16 / P pixels
// of each row a step, no overlap, the last pixel repeated by one shuffle.
template <int P>
__attribute__((target("avx2"))) std::size_t undo_rows_pow2_avx2(uint8_t* a, uint8_t* b,
                                                                std::size_t bytes) {
  const __m256i last = P == 1 ? _mm256_set1_epi8(15) : _mm256_set1_epi32(0x0f0e0d0c);
  __m256i carry = _mm256_setzero_si256();
  std::size_t i = 0;
  for (; i + 16 <= bytes; i += 16) {
    __m256i v = load_rows(a + i, b + i);
    if constexpr (P == 1) {
      v = _mm256_add_epi8(v, _mm256_slli_si256(v, 1));
      v = _mm256_add_epi8(v, _mm256_slli_si256(v, 2));
    }
    v = _mm256_add_epi8(v, _mm256_slli_si256(v, 4));
    v = _mm256_add_epi8(v, _mm256_slli_si256(v, 8));
    store_rows(a + i, b + i, _mm256_add_epi8(v, carry));
    carry = _mm256_add_epi8(carry, _mm256_shuffle_epi8(v, last));
  }
  return i;
}

// Undoes two rows with AVX2 where there is a loop for their layout; returns
// where both rows' scalar remainder starts (0: none undone).
std::size_t undo_rows_avx2(uint8_t* a, uint8_t* b, std::size_t bytes, int samples) {
  switch (samples) {
    case 1:
      return undo_rows_pow2_avx2<1>(a, b, bytes);
    case 3:
      return undo_rows_rgb_avx2(a, b, bytes);
    case 4:
      return undo_rows_pow2_avx2<4>(a, b, bytes);
    default:
      return 0;
  }
}

const bool kAvx2 = __builtin_cpu_supports("avx2");
#endif

// Grey (P = 1) and RGBA (P = 4): 16 / P pixels a step, no overlap. The
// prefix sums shift by P, 2P, ... bytes; the carry adds the last pixel of
// each step repeated (as for RGB).
template <int P>
std::size_t undo_row_pow2(uint8_t* row, std::size_t bytes) {
  __m128i carry = _mm_setzero_si128();
  std::size_t i = 0;
  for (; i + 16 <= bytes; i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + i));
    if constexpr (P == 1) {
      v = _mm_add_epi8(v, _mm_slli_si128(v, 1));
      v = _mm_add_epi8(v, _mm_slli_si128(v, 2));
    }
    v = _mm_add_epi8(v, _mm_slli_si128(v, 4));
    v = _mm_add_epi8(v, _mm_slli_si128(v, 8));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(row + i), _mm_add_epi8(v, carry));
    __m128i last = v;
    if constexpr (P == 1) {
      last = _mm_srli_si128(v, 15);
      last = _mm_unpacklo_epi8(last, last);
      last = _mm_unpacklo_epi16(last, last);
      last = _mm_shuffle_epi32(last, 0);
    } else {
      last = _mm_shuffle_epi32(v, 0xff);
    }
    carry = _mm_add_epi8(carry, last);
  }
  return i;
}
#endif

}  // namespace

bool inflate_tile(const uint8_t* stored, std::size_t stored_bytes, uint8_t* out,
                  std::size_t out_bytes) {
  if (stored_bytes > UINT32_MAX || out_bytes > UINT32_MAX) return false;
  // ISA-L's state holds its decoding tables (85 KB): one per
  // thread, reset for each tile.
  thread_local const std::unique_ptr<inflate_state> state = std::make_unique<inflate_state>();
  isal_inflate_init(state.get());
  state->crc_flag = ISAL_ZLIB;  // the zlib wrapper TIFF stores, its Adler-32 checked
  state->next_in = const_cast<uint8_t*>(stored);
  state->avail_in = uint32_t(stored_bytes);
  state->next_out = out;
  state->avail_out = uint32_t(out_bytes);
  return isal_inflate_stateless(state.get()) == ISAL_DECOMP_OK && state->avail_out == 0;
}

void undo_horizontal_differencing(uint8_t* data, uint32_t width, uint32_t rows, int samples,
                                  std::size_t stride, [[maybe_unused]] bool allow_avx2) {
  const std::size_t bytes = std::size_t(width) * std::size_t(samples);
  uint32_t r = 0;
#if defined(__x86_64__)
  if ((samples == 1 || samples == 3 || samples == 4) && kAvx2 && allow_avx2) {
    for (; r + 2 <= rows; r += 2) {
      uint8_t* a = data + std::size_t(r) * stride;
      uint8_t* b = a + stride;
      const std::size_t done = undo_rows_avx2(a, b, bytes, samples);
      undo_row_scalar(a, done, bytes, samples);
      undo_row_scalar(b, done, bytes, samples);
    }
  }
#endif
  for (; r < rows; ++r) {
    uint8_t* row = data + std::size_t(r) * stride;
    std::size_t done = 0;
#if defined(__SSE2__)
    if (samples == 3) done = undo_row_rgb(row, bytes);
    if (samples == 4) done = undo_row_pow2<4>(row, bytes);
    if (samples == 1) done = undo_row_pow2<1>(row, bytes);
#endif
    undo_row_scalar(row, done, bytes, samples);
  }
}

}  // namespace tessera
