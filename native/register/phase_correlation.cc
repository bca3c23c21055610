// See phase_correlation.h. Conventions: strip pixel p of B shows what strip pixel p + s of A shows;
// s = offset + deviation. The correlation surface IFFT(FA·conj(FB) / |FA·conj(FB)|) peaks at s
// modulo the padded size, so each peak t stands for s in {t - N, t, t + N} per axis.
#include "register/phase_correlation.h"

#include <fftw3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <complex>
#include <cstring>
#include <map>
#include <memory>
#include <tuple>
#include <utility>

namespace h5stitch::reg {
namespace {

constexpr double kPi = 3.14159265358979323846;

// The smallest n >= target with no prime factor above 7 (FFTW is fastest on those).
int GoodSize(int target) {
  for (int n = std::max(target, 1);; n++) {
    int m = n;
    for (int p : {2, 3, 5, 7}) while (m % p == 0) m /= p;
    if (m == 1) return n;
  }
}

// Sums in kLanes interleaved partial sums, added up in a fixed order: the same bits every run, and
// independent chains the compiler can vectorise (one running double sum is latency-bound).
constexpr int kLanes = 4;

double LaneSum(const double* v, size_t n) {
  double lane[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; k++) lane[k] += v[i + k];
  for (; i < n; i++) lane[i % kLanes] += v[i];
  return (lane[0] + lane[1]) + (lane[2] + lane[3]);
}

// Plans and buffers for one padded size, made once and reused for every pair of that size.
struct Plans {
  int height, width, complexWidth;
  // Single precision: the correlation surface only ranks candidate shifts (NCC in double scores
  // them and gives the sub-pixel shift), and float halves the transforms' time and memory traffic.
  float* real = nullptr;
  fftwf_complex* fa = nullptr;
  fftwf_complex* fb = nullptr;
  fftwf_plan forward = nullptr, backward = nullptr;

  Plans(int h, int w) : height(h), width(w), complexWidth(w / 2 + 1) {
    const size_t n = static_cast<size_t>(h) * w, nc = static_cast<size_t>(h) * complexWidth;
    real = fftwf_alloc_real(n);
    fa = fftwf_alloc_complex(nc);
    fb = fftwf_alloc_complex(nc);
    // FFTW_ESTIMATE: the same plan (so the same bits) in every process; MEASURE may pick another.
    forward = fftwf_plan_dft_r2c_2d(h, w, real, fa, FFTW_ESTIMATE);
    backward = fftwf_plan_dft_c2r_2d(h, w, fa, real, FFTW_ESTIMATE);
  }
  ~Plans() {
    fftwf_destroy_plan(forward);
    fftwf_destroy_plan(backward);
    fftwf_free(real);
    fftwf_free(fa);
    fftwf_free(fb);
  }
};

std::map<std::pair<int, int>, std::unique_ptr<Plans>>& PlanCache() {
  static std::map<std::pair<int, int>, std::unique_ptr<Plans>> cache;
  return cache;
}

Plans& PlansFor(int h, int w) {
  auto& slot = PlanCache()[{h, w}];
  if (!slot) slot = std::make_unique<Plans>(h, w);
  return *slot;
}

// Strips whose smaller side is at least this many pixels are phase-correlated binned 2x2.
constexpr int kBinFrom = 160;

// 8 px kept every pair of a ±30 px jitter test set (4-16 did as well; 30 lost two).
constexpr double kTaperPixels = 8;

// Tukey window: flat, with cosine tapers over the last `taper` pixels of each end (at most a
// quarter of the length). Narrow tapers: with a large shift the true overlap is a thin band at the
// strips' edges, which a Hann window would erase; the taper only has to kill the FFT's edge jump.
std::vector<double> Tukey(int n) {
  std::vector<double> w(n, 1.0);
  if (n < 3) return w;
  const double taper = std::min(kTaperPixels, 0.25 * (n - 1));
  for (int i = 0; i < n; i++) {
    const double d = std::min(i, n - 1 - i);
    if (d < taper) w[i] = 0.5 * (1 - std::cos(kPi * d / taper));
  }
  return w;
}

// Writes the strip, mean removed and windowed, into the zeroed padded buffer.
void Load(const Strip& s, Plans& p) {
  std::fill(p.real, p.real + static_cast<size_t>(p.height) * p.width, 0.0f);
  const size_t n = static_cast<size_t>(s.height) * s.width;
  const double mean = LaneSum(s.data, n) / static_cast<double>(n);
  const auto wy = Tukey(s.height), wx = Tukey(s.width);
  for (int y = 0; y < s.height; y++)
    for (int x = 0; x < s.width; x++)
      p.real[static_cast<size_t>(y) * p.width + x] = static_cast<float>((s.data[static_cast<size_t>(y) * s.width + x] - mean) * wy[y] * wx[x]);
}

// The full-resolution readings s of correlation index t (0 <= t < n) of strips binned by `bin`:
// s = bin·(t - n), bin·t or bin·(t + n), kept when the deviation s - offset is within limit (plus
// the bin's rounding, then clamped into it: the NCC climb takes it from there).
int Readings(int t, int n, int offset, int limit, int bin, int out[3]) {
  int count = 0;
  for (int coarse : {t - n, t, t + n}) {
    const int s = coarse * bin;
    if (std::abs(s - offset) <= limit + bin - 1) out[count++] = std::clamp(s, offset - limit, offset + limit);
  }
  return count;
}

// The strip averaged over bin x bin blocks (the last partial row and column dropped), into `out`.
void Binned(const Strip& s, int bin, int* height, int* width, std::vector<double>& out) {
  *height = s.height / bin;
  *width = s.width / bin;
  out.assign(static_cast<size_t>(*height) * *width, 0.0);
  for (int y = 0; y < *height * bin; y++) {
    double* row = out.data() + static_cast<size_t>(y / bin) * *width;
    const double* from = s.data + static_cast<size_t>(y) * s.width;
    for (int c = 0; c < *width; c++)
      for (int k = 0; k < bin; k++) row[c] += from[c * bin + k];
  }
  const double scale = 1.0 / (bin * bin);
  for (double& v : out) v *= scale;
}

// Parabola vertex through (-1, lo), (0, mid), (1, hi), clamped to half a pixel; 0 when not a peak.
// On the logarithms when all are positive: a Gaussian fit, less biased on a rounded NCC peak.
double Vertex(double lo, double mid, double hi) {
  if (lo > 0 && mid > 0 && hi > 0) {
    lo = std::log(lo);
    mid = std::log(mid);
    hi = std::log(hi);
  }
  const double curvature = lo - 2 * mid + hi;
  if (!(curvature < 0)) return 0;
  return std::clamp(0.5 * (lo - hi) / curvature, -0.5, 0.5);
}

}  // namespace

double OverlapNcc(const Strip& a, const Strip& b, int sy, int sx, long* overlap) {
  const int y0 = std::max(0, -sy), y1 = std::min(b.height, a.height - sy);
  const int x0 = std::max(0, -sx), x1 = std::min(b.width, a.width - sx);
  if (y1 <= y0 || x1 <= x0) {
    *overlap = 0;
    return -1;
  }
  const long n = static_cast<long>(y1 - y0) * (x1 - x0);
  // One pass over the five sums: callers centre the strips first (RegisterPair does), so the
  // variance sums do not cancel.
  // Lane k takes columns x0 + k (mod 4) of every row, as two SSE2 pairs (lanes 0-1 and 2-3; a
  // 4-wide GCC vector spilled to the stack); the lanes are added in a fixed order, so the bits do
  // not depend on the machine.
  typedef double Pair __attribute__((vector_size(16)));
  Pair la0 = {}, lb0 = {}, laa0 = {}, lbb0 = {}, lab0 = {}, la1 = {}, lb1 = {}, laa1 = {}, lbb1 = {}, lab1 = {};
  for (int y = y0; y < y1; y++) {
    const double* ra = a.data + static_cast<size_t>(y + sy) * a.width + sx;
    const double* rb = b.data + static_cast<size_t>(y) * b.width;
    int x = x0;
    auto add4 = [&](const double* pa, const double* pb) {
      Pair va0, vb0, va1, vb1;
      std::memcpy(&va0, pa, sizeof va0);
      std::memcpy(&vb0, pb, sizeof vb0);
      std::memcpy(&va1, pa + 2, sizeof va1);
      std::memcpy(&vb1, pb + 2, sizeof vb1);
      la0 += va0;
      lb0 += vb0;
      laa0 += va0 * va0;
      lbb0 += vb0 * vb0;
      lab0 += va0 * vb0;
      la1 += va1;
      lb1 += vb1;
      laa1 += va1 * va1;
      lbb1 += vb1 * vb1;
      lab1 += va1 * vb1;
    };
    for (; x + 4 <= x1; x += 4) add4(ra + x, rb + x);
    if (x < x1) {
      // The row's last 1-3 columns, zero-padded: whole-vector updates keep the sums in registers.
      double pa[4] = {}, pb[4] = {};
      std::memcpy(pa, ra + x, sizeof(double) * (x1 - x));
      std::memcpy(pb, rb + x, sizeof(double) * (x1 - x));
      add4(pa, pb);
    }
  }
  auto total = [](const Pair& l0, const Pair& l1) { return (l0[0] + l0[1]) + (l1[0] + l1[1]); };
  const double sa = total(la0, la1), sb = total(lb0, lb1), saa = total(laa0, laa1), sbb = total(lbb0, lbb1), sab = total(lab0, lab1);
  *overlap = n;
  const double varA = saa - sa * sa / n, varB = sbb - sb * sb / n, cov = sab - sa * sb / n;
  // A flat overlap (blank tile, saturated region) correlates with nothing.
  if (!(varA > 1e-12 * (saa + 1e-300)) || !(varB > 1e-12 * (sbb + 1e-300))) return 0;
  return cov / std::sqrt(varA * varB);
}

// A copy of the strip with its mean removed (for OverlapNcc's one-pass sums), into `out`.
static void Centred(const Strip& s, std::vector<double>& out) {
  const size_t n = static_cast<size_t>(s.height) * s.width;
  const double mean = LaneSum(s.data, n) / static_cast<double>(n);
  out.resize(n);
  for (size_t i = 0; i < n; i++) out[i] = s.data[i] - mean;
}

// Scratch reused by every pair: fresh multi-megabyte vectors per pair cost more in page faults
// (the allocator hands them back to the OS each time) than the transforms themselves.
struct Scratch {
  std::vector<double> centredA, centredB, binnedA, binnedB;
};

static Scratch& PairScratch() {
  static Scratch scratch;
  return scratch;
}

PairResult RegisterPair(const Strip& rawA, const Strip& rawB, const PairOptions& o) {
  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();
  Scratch& scratch = PairScratch();
  Strip a = rawA, b = rawB;
  if (!o.centred) {
    Centred(rawA, scratch.centredA);
    Centred(rawB, scratch.centredB);
    a.data = scratch.centredA.data();
    b.data = scratch.centredB.data();
  }
  // Coarse to fine: phase correlation on 2x2-binned strips when they are large (a quarter of the
  // transform work); the candidates it finds are scored and refined by NCC at full resolution.
  const int bin = std::min({a.height, a.width, b.height, b.width}) >= kBinFrom ? 2 : 1;
  int bha = a.height, bwa = a.width, bhb = b.height, bwb = b.width;
  Strip ca = a, cb = b;
  if (bin > 1) {
    Binned(a, bin, &bha, &bwa, scratch.binnedA);
    Binned(b, bin, &bhb, &bwb, scratch.binnedB);
    ca = Strip{scratch.binnedA.data(), bha, bwa};
    cb = Strip{scratch.binnedB.data(), bhb, bwb};
  }
  const int h = GoodSize(std::max(ca.height, cb.height)), w = GoodSize(std::max(ca.width, cb.width));
  Plans& p = PlansFor(h, w);
  Load(ca, p);
  fftwf_execute_dft_r2c(p.forward, p.real, p.fa);
  Load(cb, p);
  fftwf_execute_dft_r2c(p.forward, p.real, p.fb);
  // Normalised cross-power spectrum: only the phase difference (the shift) is left.
  const size_t nc = static_cast<size_t>(h) * p.complexWidth;
  for (size_t i = 0; i < nc; i++) {
    const std::complex<float> fa(p.fa[i][0], p.fa[i][1]), fb(p.fb[i][0], p.fb[i][1]);
    std::complex<float> c = fa * std::conj(fb);
    // |c| without hypot's overflow care: the values are far from float's limits.
    const float m = std::sqrt(c.real() * c.real() + c.imag() * c.imag());
    c = m > 1e-20f ? c / m : std::complex<float>(0, 0);
    p.fa[i][0] = c.real();
    p.fa[i][1] = c.imag();
  }
  fftwf_execute_dft_c2r(p.backward, p.fa, p.real);

  // Only correlation indices with a reading inside the limits can be answers.
  int ry[3], rx[3];
  std::vector<char> allowedY(h), allowedX(w);
  for (int t = 0; t < h; t++) allowedY[t] = Readings(t, h, o.offsetY, o.maxShift, bin, ry) > 0;
  for (int t = 0; t < w; t++) allowedX[t] = Readings(t, w, o.offsetX, o.maxShift, bin, rx) > 0;

  // The strongest `peaks` maxima, each suppressing its 5x5 (cyclic) neighbourhood. Only the
  // allowed rows and columns are scanned (with a large offset range most columns are not).
  std::vector<int> rows, cols;
  for (int t = 0; t < h; t++) if (allowedY[t]) rows.push_back(t);
  for (int t = 0; t < w; t++) if (allowedX[t]) cols.push_back(t);
  auto suppressed = [&](const std::vector<std::pair<int, int>>& found, int y, int x) {
    for (auto [py, px] : found) {
      const int dy = std::min((y - py + h) % h, (py - y + h) % h), dx = std::min((x - px + w) % w, (px - x + w) % w);
      if (dy <= 2 && dx <= 2) return true;
    }
    return false;
  };
  std::vector<std::pair<int, int>> peaks;
  for (int k = 0; k < o.peaks; k++) {
    float best = -INFINITY;
    int by = -1, bx = -1;
    for (int y : rows) {
      const float* row = p.real + static_cast<size_t>(y) * w;
      for (int x : cols)
        if (row[x] > best && !suppressed(peaks, y, x)) {
          best = row[x];
          by = y;
          bx = x;
        }
    }
    if (by < 0) break;
    peaks.push_back({by, bx});
  }

  PairResult result;
  const auto scoring = Clock::now();
  result.fftSeconds = std::chrono::duration<double>(scoring - started).count();
  auto nccDone = [&] { result.nccSeconds = std::chrono::duration<double>(Clock::now() - scoring).count(); };
  // NCC at full resolution, each shift computed once (the climb and the sub-pixel fit revisit).
  std::map<std::pair<int, int>, std::pair<double, long>> seen;
  auto full = [&](int sy, int sx) -> std::pair<double, long> {
    auto [it, fresh] = seen.try_emplace({sy, sx});
    if (fresh) it->second.first = OverlapNcc(a, b, sy, sx, &it->second.second);
    return it->second;
  };
  // Candidates are scored on the strips the correlation used (binned: a quarter of the work);
  // the best one is then climbed and refined at full resolution.
  int bestY = 0, bestX = 0;
  double bestScore = -INFINITY;
  for (auto [ty, tx] : peaks) {
    const int ny = Readings(ty, h, o.offsetY, o.maxShift, bin, ry), nx = Readings(tx, w, o.offsetX, o.maxShift, bin, rx);
    for (int i = 0; i < ny; i++)
      for (int j = 0; j < nx; j++) {
        long overlap = 0;
        const double ncc = bin == 1 ? full(ry[i], rx[j]).first : OverlapNcc(ca, cb, ry[i] / bin, rx[j] / bin, &overlap);
        if (bin == 1) overlap = full(ry[i], rx[j]).second;
        if (overlap * bin * bin < o.minOverlap) continue;
        result.candidates++;
        // Ties keep the first: peaks come strongest first, so the order is fixed.
        if (ncc > bestScore) {
          bestScore = ncc;
          bestY = ry[i];
          bestX = rx[j];
        }
      }
  }
  if (result.candidates == 0) {
    nccDone();
    return result;
  }
  std::tie(result.ncc, result.overlap) = full(bestY, bestX);
  // Climb to the NCC's local maximum: a correlation peak can sit a pixel or two off it, and the
  // suppressed neighbourhood of a chosen peak is never scored.
  for (int step = 0; step < 4 * o.maxShift + 4; step++) {
    int nextY = bestY, nextX = bestX;
    double next = result.ncc;
    long nextOverlap = result.overlap;
    for (auto [dy, dx] : {std::pair{-1, 0}, std::pair{1, 0}, std::pair{0, -1}, std::pair{0, 1}}) {
      const int sy = bestY + dy, sx = bestX + dx;
      if (std::abs(sy - o.offsetY) > o.maxShift || std::abs(sx - o.offsetX) > o.maxShift) continue;
      const auto [v, overlap] = full(sy, sx);
      if (overlap >= o.minOverlap && v > next) {
        next = v;
        nextY = sy;
        nextX = sx;
        nextOverlap = overlap;
      }
    }
    if (nextY == bestY && nextX == bestX) break;
    bestY = nextY;
    bestX = nextX;
    result.ncc = next;
    result.overlap = nextOverlap;
  }
  // Sub-pixel: a parabola through the NCC at the best shift and its neighbours, per axis.
  auto nccAt = [&](int sy, int sx) {
    const auto [v, overlap] = full(sy, sx);
    return overlap >= o.minOverlap ? v : NAN;
  };
  const double up = nccAt(bestY - 1, bestX), down = nccAt(bestY + 1, bestX);
  const double left = nccAt(bestY, bestX - 1), right = nccAt(bestY, bestX + 1);
  const double fy = std::isnan(up) || std::isnan(down) ? 0 : Vertex(up, result.ncc, down);
  const double fx = std::isnan(left) || std::isnan(right) ? 0 : Vertex(left, result.ncc, right);
  result.dy = bestY + fy - o.offsetY;
  result.dx = bestX + fx - o.offsetX;
  nccDone();
  return result;
}

void ReleasePlans() {
  PlanCache().clear();
  PairScratch() = Scratch{};
}

}  // namespace h5stitch::reg
