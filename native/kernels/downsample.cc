// Built with -ffp-contract=off like blend.cc (it computes output pixels: same bits on every CPU).
#include "kernels/downsample.h"

#include <cstdint>
#include <type_traits>

namespace h5stitch::kernels {
namespace {

// sum / 2^shift rounded half to even (shift 1 or 2), exactly; >> floors negative sums too.
inline int64_t DivRoundHalfEven(int64_t sum, int shift) {
  const int64_t q = sum >> shift;
  const int64_t r = sum - (q << shift);
  const int64_t half = int64_t{1} << (shift - 1);
  return q + ((r > half) | ((r == half) & (q & 1)));
}

template <typename T>
inline T Mean2(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>((static_cast<double>(a) + static_cast<double>(b)) / 2.0);
  } else {
    return static_cast<T>(DivRoundHalfEven(static_cast<int64_t>(a) + static_cast<int64_t>(b), 1));
  }
}

template <typename T>
inline T Mean4(T a, T b, T c, T d) {
  if constexpr (std::is_floating_point_v<T>) {
    const double top = static_cast<double>(a) + static_cast<double>(b);
    const double bottom = static_cast<double>(c) + static_cast<double>(d);
    return static_cast<T>((top + bottom) / 4.0);
  } else {
    const int64_t sum = (static_cast<int64_t>(a) + static_cast<int64_t>(b)) + (static_cast<int64_t>(c) + static_cast<int64_t>(d));
    return static_cast<T>(DivRoundHalfEven(sum, 2));
  }
}

template <typename T>
void DownsampleTyped(const T* src, T* out, size_t rows, size_t width) {
  const size_t pairs = width / 2;
  const bool oddColumn = width % 2 != 0;
  const size_t outWidth = pairs + (oddColumn ? 1 : 0);
  for (size_t i = 0; 2 * i < rows; i++) {
    const T* top = src + 2 * i * width;
    T* o = out + i * outWidth;
    if (2 * i + 1 < rows) {
      const T* bottom = top + width;
      for (size_t j = 0; j < pairs; j++) o[j] = Mean4(top[2 * j], top[2 * j + 1], bottom[2 * j], bottom[2 * j + 1]);
      if (oddColumn) o[pairs] = Mean2(top[width - 1], bottom[width - 1]);
    } else {
      // The last row of an odd-height level: pairs of one row.
      for (size_t j = 0; j < pairs; j++) o[j] = Mean2(top[2 * j], top[2 * j + 1]);
      if (oddColumn) o[pairs] = top[width - 1];
    }
  }
}

}  // namespace

void Downsample(const void* src, void* out, Element type, size_t rows, size_t width) {
  WithElement(type, [&](auto zero) {
    using T = decltype(zero);
    DownsampleTyped(static_cast<const T*>(src), static_cast<T*>(out), rows, width);
  });
}

}  // namespace h5stitch::kernels
