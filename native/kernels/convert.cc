// Built with -ffp-contract=off like blend.cc (it computes output pixels).
#include "kernels/convert.h"

#include "common/cpu_clones.h"

#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace h5stitch::kernels {
namespace {

// Math.round(v) stored into Out, for v already clipped to Out's range (so the conversion to
// Wide is exact): truncate, then step away from the truncation when the dropped fraction (exact:
// v - t loses no bits) reaches a half upward or passes a half downward. Clipping first gives the
// same result as rounding first, since the bounds are integers. Wide is int32 where the range
// fits: double -> int32 converts in SIMD registers, double -> int64 does not without AVX-512.
template <typename Out>
inline Out RoundClipped(double v) {
  using Wide = std::conditional_t<std::is_same_v<Out, uint32_t>, int64_t, int32_t>;
  const auto t = static_cast<Wide>(v);
  const double fraction = v - static_cast<double>(t);
  return static_cast<Out>(t + (fraction >= 0.5) - (fraction < -0.5));
}

// The NaN pixels of acc become 0 in out; returns the first one's index, or -1.
template <typename Acc, typename Out>
int64_t ZeroNaNs(const Acc* acc, Out* out, size_t length) {
  int64_t first = -1;
  for (size_t i = 0; i < length; i++) {
    if (acc[i] != acc[i]) {
      out[i] = Out(0);
      if (first < 0) first = static_cast<int64_t>(i);
    }
  }
  return first;
}

// True for the integer outputs whose every value a float holds exactly (8 and 16 bits).
template <typename Out>
constexpr bool kFloatExact = std::is_integral_v<Out> && sizeof(Out) <= 2;

// A float32 band into an 8- or 16-bit output, in float arithmetic so that it vectorises (with
// -fno-trapping-math: 1.0 ns per pixel here against 2.4 for the double loop below), with the same
// results: after clipping |c| < 2^16, so the truncation t is exact and c - t is the exact fraction
// (Sterbenz), compared with one half as RoundClipped does. NaN clips to lo, then becomes 0.
// Cloned for AVX2 (common/cpu_clones.h): 8 lanes instead of 4, 1.02 -> 0.58 ns per pixel into
// uint8, 1.34 -> 0.51 into uint16 here.
template <typename Out>
H5STITCH_AVX2_CLONES
int64_t ConvertFloatToSmall(const float* acc, Out* out, size_t length) {
  constexpr float lo = static_cast<float>(std::numeric_limits<Out>::min());
  constexpr float hi = static_cast<float>(std::numeric_limits<Out>::max());
  int sawNaN = 0;
  for (size_t i = 0; i < length; i++) {
    const float v = acc[i];
    sawNaN |= v != v;
    float c = v > lo ? v : lo;
    c = c < hi ? c : hi;
    const int32_t t = static_cast<int32_t>(c);
    const float fraction = c - static_cast<float>(t);
    out[i] = static_cast<Out>(t + (fraction >= 0.5f ? 1 : 0) - (fraction < -0.5f ? 1 : 0));
  }
  return sawNaN ? ZeroNaNs(acc, out, length) : -1;
}

template <typename Acc, typename Out>
int64_t ConvertTyped(const Acc* acc, Out* out, size_t length) {
  if constexpr (std::is_same_v<Acc, Out>) {
    std::memcpy(out, acc, length * sizeof(Out));  // TypedArray.set copies the bits
  } else if constexpr (std::is_same_v<Acc, float> && kFloatExact<Out>) {
    return ConvertFloatToSmall(acc, out, length);
  } else if constexpr (std::is_floating_point_v<Out>) {
    for (size_t i = 0; i < length; i++) out[i] = static_cast<Out>(acc[i]);
  } else {
    constexpr double lo = static_cast<double>(std::numeric_limits<Out>::min());
    constexpr double hi = static_cast<double>(std::numeric_limits<Out>::max());
    bool sawNaN = false;
    for (size_t i = 0; i < length; i++) {
      const double v = static_cast<double>(acc[i]);
      // NaN fails every comparison: stored into an integer typed array it becomes 0.
      const double clipped = v < lo ? lo : v > hi ? hi : v;
      sawNaN |= clipped != clipped;
      out[i] = clipped == clipped ? RoundClipped<Out>(clipped) : Out(0);
    }
    // Found afterwards, so the hot loop stays branch-free.
    if (sawNaN) return ZeroNaNs(acc, out, length);
  }
  return -1;
}

template <typename Acc>
int64_t ConvertFrom(const Acc* acc, void* out, Element outType, size_t length) {
  int64_t firstNaN = -1;
  WithElement(outType, [&](auto zero) {
    using Out = decltype(zero);
    firstNaN = ConvertTyped(acc, static_cast<Out*>(out), length);
  });
  return firstNaN;
}

}  // namespace

int64_t Convert(const void* acc, Element accType, void* out, Element outType, size_t length) {
  if (accType == Element::kFloat32) return ConvertFrom(static_cast<const float*>(acc), out, outType, length);
  return ConvertFrom(static_cast<const double*>(acc), out, outType, length);
}

}  // namespace h5stitch::kernels
