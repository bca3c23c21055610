// Built with -ffp-contract=off: a fused multiply-add would change the bits on some CPUs.
#include "kernels/blend.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace h5stitch::kernels {
namespace {

// Tent profile along one axis: 1 at the edges, peaking in the middle (exact in double).
inline double Tent(int64_t i, int64_t n) { return static_cast<double>(i + 1 < n - i ? i + 1 : n - i); }

// JavaScript's Math.max: NaN if either is NaN, +0 over -0.
inline double JsMax(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  if (a == b) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}

// A run [from, to) of canvas columns.
struct Span {
  int64_t from, to;
};

// Sorts spans by start and merges overlapping or touching ones.
void Merge(std::vector<Span>& spans) {
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.from < b.from; });
  size_t n = 0;
  for (const Span& s : spans) {
    if (n > 0 && s.from <= spans[n - 1].to) spans[n - 1].to = std::max(spans[n - 1].to, s.to);
    else spans[n++] = s;
  }
  spans.resize(n);
}

// Scratch reused across calls, one per thread (main and background batches).
thread_local std::vector<double> g_weight;
thread_local std::vector<Span> g_shared, g_earlier;

// The columns of row y in [r.x0, r.x1) that a covering tile other than `tile` also covers
// (earlierOnly: only tiles earlier in canonical order), as sorted disjoint spans in `spans`. A
// row holds a handful of them (left/right neighbours), so the rest of the row takes the fast path.
const std::vector<Span>& SharedSpans(const std::vector<Rect>& covering, const Rect& tile, int64_t y, const Region& r,
                                     bool earlierOnly, std::vector<Span>& spans) {
  spans.clear();
  for (const Rect& c : covering) {
    if (c.order == tile.order || (earlierOnly && c.order > tile.order) || !c.CoversRow(y)) continue;
    int64_t from = std::max(r.x0, c.x), to = std::min(r.x1, c.x + c.width);
    if (from < to) spans.push_back({from, to});
  }
  Merge(spans);
  return spans;
}

// Calls first(from, to) for the columns of [from, to) outside `earlier` (sorted, disjoint spans)
// and later(from, to) for those inside.
template <typename First, typename Later>
inline void SplitByEarlier(int64_t from, int64_t to, const std::vector<Span>& earlier, First first, Later later) {
  int64_t x = from;
  for (const Span& e : earlier) {
    if (e.to <= x) continue;
    if (e.from >= to) break;
    if (e.from > x) first(x, e.from);
    const int64_t end = std::min(e.to, to);
    later(std::max(x, e.from), end);
    x = end;
  }
  if (x < to) first(x, to);
}

// The type a plain sum a + d can be done in with the same bits as in double (what the reference
// and JavaScript do): float when both are exact floats, since a binary32 sum computed in binary64
// and rounded once to binary32 is the correctly rounded binary32 sum (53 >= 2*24 + 2).
template <typename Acc, typename Data>
using PlainSum = std::conditional_t<std::is_same_v<Acc, float> && (std::is_same_v<Data, float> || sizeof(Data) <= 2), float, double>;

// a[x] += d[x] over [from, to): pixels with weight exactly 1 (none blend, or covered once).
template <typename Acc, typename Data>
inline void AddPlain(Acc* a, const Data* d, int64_t from, int64_t to) {
  using Sum = PlainSum<Acc, Data>;
  for (int64_t x = from; x < to; x++) a[x] = static_cast<Acc>(static_cast<Sum>(a[x]) + static_cast<Sum>(d[x]));
}

// a[x] = d[x] + 0 over [from, to): AddPlain onto a zero accumulator, without reading it (+ 0 keeps
// the bits of 0 + d: -0 becomes +0; the compiler may not drop it without -fno-signed-zeros).
template <typename Acc, typename Data>
inline void SetPlain(Acc* a, const Data* d, int64_t from, int64_t to) {
  using Sum = PlainSum<Acc, Data>;
  for (int64_t x = from; x < to; x++) a[x] = static_cast<Acc>(static_cast<Sum>(d[x]) + Sum(0));
}

// The loops below count in int32 tile columns (tiles are far narrower than 2^31): int32 -> double
// converts in SIMD registers, int64 -> double does not without AVX-512, so they vectorise.
inline double TentAt(int32_t i, int32_t n) { return static_cast<double>(std::min(i + 1, n - i)); }

// w[i] += ry * tent(i) for tile columns [i0, i1) of a tile n wide (w indexed by its columns).
inline void AddTentRow(double* w, double ry, int64_t n, int64_t i0, int64_t i1) {
  const auto n32 = static_cast<int32_t>(n);
  for (auto i = static_cast<int32_t>(i0); i < static_cast<int32_t>(i1); i++) w[i] += ry * TentAt(i, n32);
}

// a[i] += d[i] * (ry * tent(i) / w[i]) for tile columns [i0, i1): the shared pixels' blend.
template <typename Acc, typename Data>
inline void AddWeighted(Acc* a, const Data* d, const double* w, double ry, int64_t n, int64_t i0, int64_t i1) {
  const auto n32 = static_cast<int32_t>(n);
  for (auto i = static_cast<int32_t>(i0); i < static_cast<int32_t>(i1); i++) {
    a[i] = static_cast<Acc>(static_cast<double>(a[i]) + static_cast<double>(d[i]) * ((ry * TentAt(i, n32)) / w[i]));
  }
}

// AddWeighted onto a zero accumulator, without reading it (see SetPlain).
template <typename Acc, typename Data>
inline void SetWeighted(Acc* a, const Data* d, const double* w, double ry, int64_t n, int64_t i0, int64_t i1) {
  const auto n32 = static_cast<int32_t>(n);
  for (auto i = static_cast<int32_t>(i0); i < static_cast<int32_t>(i1); i++) {
    a[i] = static_cast<Acc>(static_cast<double>(d[i]) * ((ry * TentAt(i, n32)) / w[i]) + 0.0);
  }
}

// One row y of a job: a and d indexed by canvas x.
template <typename Acc, typename Data>
struct Row {
  Acc* a;
  const Data* d;
  int64_t y;
  const Job& job;
  // fresh: the columns an earlier tile covers (set already: add there, set elsewhere).
  const std::vector<Span>& earlier;

  // Weight 1 over [from, to): this tile alone there, or the none blend.
  void Plain(int64_t from, int64_t to) const {
    if (job.fresh) SetPlain(a, d, from, to);
    else AddPlain(a, d, from, to);
  }
  void PlainAfterEarlier(int64_t from, int64_t to) const {
    if (!job.fresh) return AddPlain(a, d, from, to);
    SplitByEarlier(from, to, earlier, [&](int64_t f, int64_t t) { SetPlain(a, d, f, t); },
                   [&](int64_t f, int64_t t) { AddPlain(a, d, f, t); });
  }
};

template <typename Acc, typename Data>
void MaxRow(const Row<Acc, Data>& row, const std::vector<Span>& shared) {
  Acc* a = row.a;
  const Data* d = row.d;
  int64_t x = row.job.r.x0;
  for (const Span& s : shared) {
    // Outside the spans this tile is first: the value as is.
    for (; x < s.from; x++) a[x] = static_cast<Acc>(static_cast<double>(d[x]));
    // A pixel's first writer (lowest order) overwrites, so acc need not start at -inf.
    for (; x < s.to; x++) a[x] = static_cast<Acc>(JsMax(static_cast<double>(a[x]), static_cast<double>(d[x])));
  }
  for (; x < row.job.r.x1; x++) a[x] = static_cast<Acc>(static_cast<double>(d[x]));
}

// The linear blend over a span shared with other tiles: W = sum of raw weights over the tiles
// covering the pixel, in canonical order (0 + a is exact, so skipping tiles that miss a pixel
// keeps the bits), then a += d * (own weight / W).
template <typename Acc, typename Data>
void LinearSpan(const Row<Acc, Data>& row, double* weight, const Span& s) {
  const Job& job = row.job;
  const Rect& tile = job.tile;
  std::fill(weight + s.from, weight + s.to, 0.0);
  for (const Rect& c : job.covering) {
    if (!c.CoversRow(row.y)) continue;
    const int64_t from = std::max(s.from, c.x), to = std::min(s.to, c.x + c.width);
    if (from < to) AddTentRow(weight + c.x, Tent(row.y - c.y, c.height), c.width, from - c.x, to - c.x);
  }
  const double ry = Tent(row.y - tile.y, tile.height);
  Acc* a = row.a + tile.x;
  const Data* d = row.d + tile.x;
  const double* w = weight + tile.x;
  auto setWeighted = [&](int64_t from, int64_t to) { SetWeighted(a, d, w, ry, tile.width, from - tile.x, to - tile.x); };
  auto addWeighted = [&](int64_t from, int64_t to) { AddWeighted(a, d, w, ry, tile.width, from - tile.x, to - tile.x); };
  if (job.fresh) SplitByEarlier(s.from, s.to, row.earlier, setWeighted, addWeighted);
  else addWeighted(s.from, s.to);
}

template <typename Acc, typename Data>
void LinearRow(const Row<Acc, Data>& row, double* weight, const std::vector<Span>& shared) {
  int64_t x = row.job.r.x0;
  for (const Span& s : shared) {
    row.Plain(x, s.from);  // alone, so first when fresh
    LinearSpan(row, weight, s);
    x = s.to;
  }
  row.Plain(x, row.job.r.x1);
}

template <typename Acc, typename Data>
void Accumulate(Acc* acc, const Data* data, const Job& job, int64_t yFrom, int64_t yTo) {
  const Region& r = job.r;
  const int64_t w = r.x1 - r.x0;
  if (g_weight.size() < static_cast<size_t>(w)) g_weight.resize(static_cast<size_t>(w));
  // Indexed by canvas x, like a and d below.
  double* weight = g_weight.data() - r.x0;
  static const std::vector<Span> kNoSpans;
  for (int64_t y = std::max(r.y0, yFrom); y < std::min(r.y1, yTo); y++) {
    const bool needEarlier = job.fresh && job.blend != Blend::kMax;
    const Row<Acc, Data> row{acc + (y - job.accY0) * job.accWidth - job.accX0, data + (y - r.y0) * w - r.x0, y, job,
                             needEarlier ? SharedSpans(job.covering, job.tile, y, r, true, g_earlier) : kNoSpans};
    if (job.blend == Blend::kNone) {
      row.PlainAfterEarlier(r.x0, r.x1);
      continue;
    }
    const bool max = job.blend == Blend::kMax;
    const std::vector<Span>& shared = SharedSpans(job.covering, job.tile, y, r, max, g_shared);
    if (max) MaxRow(row, shared);
    else LinearRow(row, weight, shared);
  }
}

template <typename Acc>
void RunInto(Acc* acc, const Job& job, int64_t y0, int64_t y1) {
  WithElement(job.dataType, [&](auto zero) {
    using Data = decltype(zero);
    Accumulate(acc, static_cast<const Data*>(job.data), job, y0, y1);
  });
}

}  // namespace

void Run(const Job& job) { RunRows(job, job.r.y0, job.r.y1); }

void RunRows(const Job& job, int64_t y0, int64_t y1) {
  if (std::max(job.r.y0, y0) >= std::min(job.r.y1, y1) || job.r.x0 == job.r.x1) return;
  if (job.accType == Element::kFloat32) RunInto(static_cast<float*>(job.acc), job, y0, y1);
  else RunInto(static_cast<double*>(job.acc), job, y0, y1);
}

void ZeroUncovered(const std::vector<Job>& jobs, int64_t rowFrom, int64_t rowTo) {
  const Job& first = jobs[0];
  const int64_t width = first.accWidth, elementSize = first.accType == Element::kFloat32 ? 4 : 8;
  auto* base = static_cast<uint8_t*>(first.acc);
  std::vector<Span> covered;
  for (int64_t row = rowFrom; row < rowTo; row++) {
    const int64_t y = first.accY0 + row;
    covered.clear();
    for (const Job& j : jobs) {
      if (y >= j.r.y0 && y < j.r.y1 && j.r.x0 < j.r.x1) covered.push_back({j.r.x0 - j.accX0, j.r.x1 - j.accX0});
    }
    Merge(covered);
    int64_t x = 0;
    auto zero = [&](int64_t from, int64_t to) {
      if (from < to) std::fill(base + (row * width + from) * elementSize, base + (row * width + to) * elementSize, 0);
    };
    for (const Span& c : covered) {
      zero(x, c.from);
      x = c.to;
    }
    zero(x, width);
  }
}

}  // namespace h5stitch::kernels
