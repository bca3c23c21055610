// Built with -fno-trapping-math like convert.cc: the comparisons of NaN then need no branch, so
// the block loop vectorises (h5stitch never enables FP traps; the results are the same).
#include "kernels/verify_compare.h"

#include <algorithm>
#include <limits>
#include <type_traits>

namespace h5stitch::kernels {
namespace {

// Elements checked branch-free before looking for which one failed: a mismatch costs at most one
// more pass over its block; matching bands (the common case) never leave the vector loop.
constexpr size_t kBlock = 4096;

// The definition of verify_compare.h in arithmetic type T: 1 when gotValue is accValue's output value, else 0. T = double is exact for every pair
// (a float converts exactly; g +- 0.5 is exact below 2^52). T = float is used only for a float
// accumulator and an 8- or 16-bit output: |g| + 0.5 < 2^17 needs 18 of float's 24 bits, so
// g +- 0.5 is exact there too and every comparison gives what it gives in double.
template <typename T, typename Acc, typename Got>
inline unsigned IsOutputValue(Acc accValue, Got gotValue) {
  constexpr T lo = static_cast<T>(std::numeric_limits<Got>::min());
  constexpr T hi = static_cast<T>(std::numeric_limits<Got>::max());
  const T a = static_cast<T>(accValue);
  const T g = static_cast<T>(gotValue);
  // NaN fails both comparisons, so a NaN passes only through its own clause (lo != hi).
  // Ints, not bools: bool operands get short-circuit branches that stop the loop vectorising.
  const unsigned fromBelow = unsigned(g == lo) | unsigned(a >= g - T(0.5));
  const unsigned fromAbove = unsigned(g == hi) | unsigned(a < g + T(0.5));
  const unsigned nanAsZero = unsigned(a != a) & unsigned(g == T(0));
  return (fromBelow & fromAbove) | nanAsZero;
}

template <typename Acc, typename Got>
int64_t FirstMismatchTyped(const Acc* acc, const Got* got, size_t length) {
  using T = std::conditional_t<std::is_same_v<Acc, float> && sizeof(Got) <= 2, float, double>;
  for (size_t start = 0; start < length; start += kBlock) {
    const size_t end = std::min(start + kBlock, length);
    unsigned bad = 0;
    for (size_t i = start; i < end; i++) bad |= IsOutputValue<T>(acc[i], got[i]) ^ 1u;
    if (bad == 0) continue;
    for (size_t i = start; i < end; i++) {
      if (!IsOutputValue<T>(acc[i], got[i])) return static_cast<int64_t>(i);
    }
  }
  return -1;
}

template <typename Acc>
int64_t FirstMismatchFrom(const Acc* acc, const void* got, Element gotType, size_t length) {
  int64_t first = -1;
  WithElement(gotType, [&](auto zero) {
    using Got = decltype(zero);
    if constexpr (std::is_integral_v<Got>) first = FirstMismatchTyped(acc, static_cast<const Got*>(got), length);
  });
  return first;
}

}  // namespace

int64_t FirstMismatch(const void* acc, Element accType, const void* got, Element gotType, size_t length) {
  if (accType == Element::kFloat32) return FirstMismatchFrom(static_cast<const float*>(acc), got, gotType, length);
  return FirstMismatchFrom(static_cast<const double*>(acc), got, gotType, length);
}

}  // namespace h5stitch::kernels
