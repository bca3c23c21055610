// verify's check of an integer output band against the float accumulator it blended itself: by
// the definition of the output value, not by computing it, so that it shares no arithmetic with
// the stitch's conversion (convert.cc) and a defect there cannot hide behind the same defect here.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/element.h"

namespace h5stitch::kernels {

// The index of the first i < length where got[i] is not the output value of acc[i], or -1. The
// output value (convert.h) of a is Math.round(a) (halves toward +Infinity) clipped to [lo, hi],
// and 0 for NaN; g is it exactly when
//   a is NaN and g == 0, or
//   a is not NaN and (g == lo or a >= g - 0.5) and (g == hi or a < g + 0.5),
// since Math.round(a) == n iff n - 0.5 <= a < n + 0.5, and clipping maps every a below lo + 0.5
// to lo and every a from hi - 0.5 up to hi (±Infinity included). accType is kFloat32 or
// kFloat64; gotType one of the integer elements.
int64_t FirstMismatch(const void* acc, Element accType, const void* got, Element gotType, size_t length);

}  // namespace h5stitch::kernels
