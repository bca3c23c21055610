// The accumulator -> output conversion at the end of every strategy, free of JS: exactly what
// a typed-array store does (test/helpers/reference-convert.ts), bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/element.h"

namespace h5stitch::kernels {

// out[i] = acc[i] for i < length. Float outputs: the value as a typed-array store rounds it
// (float64 -> float32: to nearest). Integer outputs: JavaScript's Math.round (halves toward
// +Infinity), clipped to the type's range; NaN -> 0, and the index of the first such NaN is
// returned (NaN has no integer value: callers refuse the output). -1 when none, always for floats.
int64_t Convert(const void* acc, Element accType, void* out, Element outType, size_t length);

}  // namespace h5stitch::kernels
