// Pairwise translation between two overlapping image strips: windowed phase correlation (FFTW),
// several correlation peaks with their wrap-around readings, each scored by normalised
// cross-correlation (NCC) on the strips' real overlap, the best refined to sub-pixel precision.
// Pure C++ (no Node-API): lib/register drives it through register_binding.cc.
#pragma once

#include <cstddef>
#include <vector>

namespace h5stitch::reg {

// A strip of pixels, row-major, as doubles.
struct Strip {
  const double* data;
  int height;
  int width;
};

struct PairResult {
  // Deviation of B's position relative to A from the nominal: (B_true - A_true) - (B_nominal - A_nominal).
  double dy = 0, dx = 0;
  // NCC of the strips' overlap at the chosen integer shift; -1 when no candidate fit the limits.
  double ncc = -1;
  // Overlapping pixels at that shift.
  long overlap = 0;
  // Candidates scored (peaks × wrap readings inside the limits).
  int candidates = 0;
  // CPU split (steady clock): loading + transforms + cross-power spectrum + peak search, and NCC scoring.
  double fftSeconds = 0, nccSeconds = 0;
};

struct PairOptions {
  // Strip B's origin minus strip A's origin, in nominal canvas coordinates (whole pixels).
  int offsetY = 0, offsetX = 0;
  // Largest |deviation| accepted per axis.
  int maxShift = 0;
  // Correlation peaks examined.
  int peaks = 5;
  // Fewest overlapping pixels a candidate needs (NCC over a sliver is meaningless).
  long minOverlap = 256;
  // The strips already have their means removed (the binding does it while widening them): skips
  // RegisterPair's own centring copy.
  bool centred = false;
};

// Registers strip B against strip A. Creates (and caches) FFTW plans for the padded size on first
// use: call from one thread only (FFTW planning is not thread-safe). Deterministic: FFTW_ESTIMATE
// plans and aligned buffers, so the same inputs give the same bits in any process.
PairResult RegisterPair(const Strip& a, const Strip& b, const PairOptions& options);

// NCC of A(p + s) against B(p) over their overlap for an integer shift s = (sy, sx) of B's strip
// origin in A's strip coordinates; sets *overlap to the pixel count. One pass: centre the strips
// first (subtract each one's mean), or large offsets cancel the variance sums.
double OverlapNcc(const Strip& a, const Strip& b, int sy, int sx, long* overlap);

// Releases the cached plans and buffers.
void ReleasePlans();

}  // namespace h5stitch::reg
