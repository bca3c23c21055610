// One pyramid level from the one below: each output pixel the mean of the (up to 2x2) input
// pixels it covers, in the input's element type (docs/pyramid.md). Free of Node-API.
#pragma once

#include <cstddef>

#include "kernels/element.h"

namespace h5stitch::kernels {

// `src` holds `rows` x `width` elements of `type`; `out` receives ceil(rows/2) x ceil(width/2)
// of the same type. Output (i, j) is the mean of src rows 2i, 2i+1 and columns 2j, 2j+1 that
// exist: ((top-left + top-right) + (bottom-left + bottom-right)) / count in float64, stored as
// the float type (rounded to nearest); integers: that mean rounded half to even, computed
// exactly in int64 (the float64 mean of up to four 32-bit integers is exact, so this is the
// same value), never outside the inputs' range.
void Downsample(const void* src, void* out, Element type, size_t rows, size_t width);

}  // namespace h5stitch::kernels
