// Built with -ffp-contract=off like blend.cc (it computes output pixels).
#include "kernels/convert.h"

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

template <typename Acc, typename Out>
int64_t ConvertTyped(const Acc* acc, Out* out, size_t length) {
  if constexpr (std::is_same_v<Acc, Out>) {
    std::memcpy(out, acc, length * sizeof(Out));  // TypedArray.set copies the bits
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
    for (size_t i = 0; sawNaN && i < length; i++) {
      if (acc[i] != acc[i]) return static_cast<int64_t>(i);
    }
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
