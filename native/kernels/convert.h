// The accumulator -> output conversion at the end of every strategy, free of JS: exactly what
// lib/strategies.ts convertInto does with typed arrays, bit for bit.
#pragma once

#include <cstddef>

#include "kernels/element.h"

namespace h5stitch::kernels {

// out[i] = acc[i] for i < length. Float outputs: the value as a typed-array store rounds it
// (float64 -> float32: to nearest). Integer outputs: JavaScript's Math.round (halves toward
// +Infinity), clipped to the type's range; NaN -> 0.
void Convert(const void* acc, Element accType, void* out, Element outType, size_t length);

}  // namespace h5stitch::kernels
