// The blend accumulation kernel. Every strategy (and every rank count) adds a pixel's
// contributions through this one function, in canonical tile order, with the same IEEE
// double operations per pixel, so outputs are bit-identical however the canvas is cut.
// Built with -ffp-contract=off: a fused multiply-add would change the bits on some CPUs.
#include "kernels.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "errors.h"
#include "h5_types.h"

namespace h5stitch::kernels {
namespace {

enum class Blend { kLinear, kNone, kMax };

// A tile on the canvas, as packed by lib/blend.ts: [order, y, x, height, width].
struct Rect {
  int64_t order, y, x, height, width;
  bool CoversRow(int64_t row) const { return row >= y && row < y + height; }
};

struct Region {
  int64_t y0, y1, x0, x1;
};

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
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.from < b.from; });
  size_t n = 0;
  for (const Span& s : spans) {
    if (n > 0 && s.from <= spans[n - 1].to) spans[n - 1].to = std::max(spans[n - 1].to, s.to);
    else spans[n++] = s;
  }
  spans.resize(n);
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

// fresh: acc holds garbage wherever `tile` is the first covering tile (in canonical order) of a
// pixel; those pixels are set as if acc were zero there, without being read or cleared first.
template <typename Acc, typename Data>
void Accumulate(Acc* acc, int64_t accWidth, int64_t accY0, int64_t accX0, const Rect& tile,
                const std::vector<Rect>& covering, const Data* data, const Region& r, Blend blend, bool fresh) {
  const int64_t w = r.x1 - r.x0;
  if (g_weight.size() < static_cast<size_t>(w)) g_weight.resize(static_cast<size_t>(w));
  // Indexed by canvas x, like a and d below.
  double* weight = g_weight.data() - r.x0;
  static const std::vector<Span> kNoSpans;
  for (int64_t y = r.y0; y < r.y1; y++) {
    Acc* a = acc + (y - accY0) * accWidth - accX0;
    const Data* d = data + (y - r.y0) * w - r.x0;
    // Where an earlier tile covers the pixel it was set already: add; elsewhere this tile is first.
    const std::vector<Span>& earlier = fresh && blend != Blend::kMax ? SharedSpans(covering, tile, y, r, true, g_earlier) : kNoSpans;
    auto setPlain = [&](int64_t from, int64_t to) { SetPlain(a, d, from, to); };
    auto addPlain = [&](int64_t from, int64_t to) { AddPlain(a, d, from, to); };
    if (blend == Blend::kNone) {
      if (fresh) SplitByEarlier(r.x0, r.x1, earlier, setPlain, addPlain);
      else AddPlain(a, d, r.x0, r.x1);
      continue;
    }
    const auto& spans = SharedSpans(covering, tile, y, r, blend == Blend::kMax, g_shared);
    int64_t x = r.x0;
    for (const Span& s : spans) {
      // Outside the spans this tile is alone (max: first): weight 1, or the value as is.
      if (blend == Blend::kMax) {
        for (; x < s.from; x++) a[x] = static_cast<Acc>(static_cast<double>(d[x]));
        // A pixel's first writer (lowest order) overwrites, so acc need not start at -inf.
        for (; x < s.to; x++) a[x] = static_cast<Acc>(JsMax(static_cast<double>(a[x]), static_cast<double>(d[x])));
        continue;
      }
      if (fresh) SetPlain(a, d, x, s.from);  // alone, so first
      else AddPlain(a, d, x, s.from);
      // Linear: W = sum of raw weights over the tiles covering the pixel, in canonical order
      // (0 + a is exact, so skipping tiles that miss a pixel keeps the bits).
      std::fill(weight + s.from, weight + s.to, 0.0);
      for (const Rect& c : covering) {
        if (!c.CoversRow(y)) continue;
        const int64_t from = std::max(s.from, c.x), to = std::min(s.to, c.x + c.width);
        if (from < to) AddTentRow(weight + c.x, Tent(y - c.y, c.height), c.width, from - c.x, to - c.x);
      }
      const double ry = Tent(y - tile.y, tile.height);
      auto setWeighted = [&](int64_t from, int64_t to) {
        SetWeighted(a + tile.x, d + tile.x, weight + tile.x, ry, tile.width, from - tile.x, to - tile.x);
      };
      auto addWeighted = [&](int64_t from, int64_t to) {
        AddWeighted(a + tile.x, d + tile.x, weight + tile.x, ry, tile.width, from - tile.x, to - tile.x);
      };
      if (fresh) SplitByEarlier(s.from, s.to, earlier, setWeighted, addWeighted);
      else addWeighted(s.from, s.to);
      x = s.to;
    }
    if (blend == Blend::kMax) {
      for (; x < r.x1; x++) a[x] = static_cast<Acc>(static_cast<double>(d[x]));
    } else if (fresh) {
      SetPlain(a, d, x, r.x1);
    } else {
      AddPlain(a, d, x, r.x1);
    }
  }
}

// One accumulate() call, checked and reduced to plain pointers: runs without touching JS values,
// so it may run on a worker thread while the main thread does HDF5/MPI I/O.
struct Job {
  void* acc;
  napi_typedarray_type accType;
  int64_t accWidth, accY0, accX0;
  Rect tile;
  std::vector<Rect> covering;
  const void* data;
  napi_typedarray_type dataType;
  Region r;
  Blend blend;
  bool fresh = false;  // see Accumulate
};

template <typename Acc>
void RunFor(const Job& j, Acc* acc) {
#define H5STITCH_KERNEL_CASE(napiType, cType)                                                                       \
  case napiType:                                                                                                   \
    return Accumulate(acc, j.accWidth, j.accY0, j.accX0, j.tile, j.covering, static_cast<const cType*>(j.data), j.r, \
                      j.blend, j.fresh);
  switch (j.dataType) {
    H5STITCH_KERNEL_CASE(napi_int8_array, int8_t)
    H5STITCH_KERNEL_CASE(napi_uint8_array, uint8_t)
    H5STITCH_KERNEL_CASE(napi_int16_array, int16_t)
    H5STITCH_KERNEL_CASE(napi_uint16_array, uint16_t)
    H5STITCH_KERNEL_CASE(napi_int32_array, int32_t)
    H5STITCH_KERNEL_CASE(napi_uint32_array, uint32_t)
    H5STITCH_KERNEL_CASE(napi_float32_array, float)
    H5STITCH_KERNEL_CASE(napi_float64_array, double)
    default:
      break;  // ParseJob admits only the types above
  }
#undef H5STITCH_KERNEL_CASE
}

void Run(const Job& j) {
  if (j.r.y0 == j.r.y1 || j.r.x0 == j.r.x1) return;
  if (j.accType == napi_float32_array) RunFor(j, static_cast<float*>(j.acc));
  else RunFor(j, static_cast<double*>(j.acc));
}

bool IsNumericArray(const Napi::Value& v) {
  if (!v.IsTypedArray()) return false;
  switch (v.As<Napi::TypedArray>().TypedArrayType()) {
    case napi_int8_array: case napi_uint8_array: case napi_int16_array: case napi_uint16_array:
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: case napi_float64_array:
      return true;
    default:
      return false;
  }
}

bool IsFloatArray(const Napi::Value& v) {
  return v.IsTypedArray() && (v.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array ||
                              v.As<Napi::TypedArray>().TypedArrayType() == napi_float64_array);
}

int64_t IntegerField(Napi::Env env, const Napi::Object& args, const char* name) {
  Napi::Value v = args.Get(name);
  return SafeInteger(env, v, "an integer", name, v);
}

std::vector<Rect> Rects(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      v.As<Napi::TypedArray>().ElementLength() % 5 != 0) {
    ThrowTypeError(env, "an Int32Array of [order, y, x, height, width] records", name, v);
  }
  auto a = v.As<Napi::Int32Array>();
  std::vector<Rect> out;
  for (size_t i = 0; i < a.ElementLength(); i += 5) out.push_back({a[i], a[i + 1], a[i + 2], a[i + 3], a[i + 4]});
  return out;
}

std::string Describe(const Region& r) {
  return "[" + std::to_string(r.y0) + "," + std::to_string(r.y1) + ")x[" + std::to_string(r.x0) + "," +
         std::to_string(r.x1) + ")";
}

// Checks one accumulate() argument object (see AccumulateJs); every index is checked, so a bad
// call throws here and Run never writes out of bounds.
Job ParseJob(Napi::Env env, const Napi::Value& argsValue) {
  if (!argsValue.IsObject()) ThrowTypeError(env, "an object", "accumulate() arguments", argsValue);
  Napi::Object args = argsValue.As<Napi::Object>();
  Napi::Value accValue = args.Get("acc");
  if (!IsFloatArray(accValue)) ThrowTypeError(env, "a Float32Array or Float64Array", "acc", accValue);
  auto acc = accValue.As<Napi::TypedArray>();
  Job job;
  job.acc = DataOf(acc);
  job.accType = acc.TypedArrayType();
  job.accWidth = IntegerField(env, args, "accWidth");
  job.accY0 = IntegerField(env, args, "accY0");
  job.accX0 = IntegerField(env, args, "accX0");
  std::vector<Rect> tileRect = Rects(env, args.Get("tile"), "tile");
  if (tileRect.size() != 1) ThrowTypeError(env, "an Int32Array of one [order, y, x, height, width] record", "tile", args.Get("tile"));
  const Rect tile = job.tile = tileRect[0];
  job.covering = Rects(env, args.Get("covering"), "covering");
  Napi::Value dataValue = args.Get("data");
  if (!IsNumericArray(dataValue)) ThrowTypeError(env, "a numeric typed array (not BigInt)", "data", dataValue);
  auto data = dataValue.As<Napi::TypedArray>();
  job.data = DataOf(data);
  job.dataType = data.TypedArrayType();
  Napi::Value regionValue = args.Get("region");
  if (!regionValue.IsArray() || regionValue.As<Napi::Array>().Length() != 4) {
    ThrowTypeError(env, "[y0, y1, x0, x1]", "region", regionValue);
  }
  Napi::Array ra = regionValue.As<Napi::Array>();
  int64_t rv[4];
  for (uint32_t i = 0; i < 4; i++) rv[i] = SafeInteger(env, ra.Get(i), "[y0, y1, x0, x1] integers", "region", regionValue);
  const Region r = job.r = Region{rv[0], rv[1], rv[2], rv[3]};
  std::string blendName = args.Get("blend").IsString() ? args.Get("blend").As<Napi::String>().Utf8Value() : "";
  if (blendName == "linear") job.blend = Blend::kLinear;
  else if (blendName == "none") job.blend = Blend::kNone;
  else if (blendName == "max") job.blend = Blend::kMax;
  else ThrowTypeError(env, "'linear' | 'none' | 'max'", "blend", args.Get("blend"));

  // Geometry: the region lies in the tile and in acc; data holds the whole region.
  if (tile.height < 0 || tile.width < 0 || r.y0 < tile.y || r.y1 > tile.y + tile.height || r.x0 < tile.x ||
      r.x1 > tile.x + tile.width || r.y0 > r.y1 || r.x0 > r.x1) {
    ThrowWithCode(env, kCodeRange, "region " + Describe(r) + " is not inside tile " + std::to_string(tile.order) + " (order)");
  }
  const int64_t accLength = static_cast<int64_t>(acc.ElementLength());
  if (r.y0 < r.y1 && r.x0 < r.x1 &&
      (job.accWidth <= 0 || r.y0 < job.accY0 || r.x0 < job.accX0 || r.x1 - job.accX0 > job.accWidth ||
       (r.y1 - job.accY0) * job.accWidth > accLength)) {
    ThrowWithCode(env, kCodeRange, "region " + Describe(r) + " is not inside the accumulator");
  }
  const int64_t need = (r.y1 - r.y0) * (r.x1 - r.x0);
  if (static_cast<int64_t>(data.ElementLength()) < need) {
    ThrowWithCode(env, kCodeRange, "data has " + std::to_string(data.ElementLength()) + " values, region needs " + std::to_string(need));
  }
  // Canonical order, and the tile itself among them (else W would miss its own weight).
  bool self = false;
  for (size_t i = 0; i < job.covering.size(); i++) {
    const Rect& c = job.covering[i];
    if (i > 0 && c.order <= job.covering[i - 1].order) {
      ThrowWithCode(env, kCodeRange, "covering tiles are not in increasing order");
    }
    if (c.order == tile.order) {
      self = c.y == tile.y && c.x == tile.x && c.height == tile.height && c.width == tile.width;
      if (!self) ThrowWithCode(env, kCodeRange, "covering record of tile order " + std::to_string(tile.order) + " differs from the tile");
    }
  }
  if (!self) ThrowWithCode(env, kCodeRange, "covering list of tile order " + std::to_string(tile.order) + " does not include it");
  return job;
}

// accumulate({acc, accWidth, accY0, accX0, tile, covering, data, region: [y0,y1,x0,x1], blend}):
// adds `data` (the tile's pixels of `region`, row-major) into `acc`, whose [0] is canvas
// (accY0, accX0), weighted by `blend`.
Napi::Value AccumulateJs(const Napi::CallbackInfo& info) {
  Run(ParseJob(info.Env(), info[0]));
  return info.Env().Undefined();
}

// Zeroes the pixels of the band (rows of jobs[0]'s accumulator, `length` elements) that no job's
// region covers; the jobs set the others (fresh).
void ZeroUncovered(const std::vector<Job>& jobs, int64_t length) {
  const Job& first = jobs[0];
  const int64_t width = first.accWidth, elementSize = first.accType == napi_float32_array ? 4 : 8;
  auto* base = static_cast<uint8_t*>(first.acc);
  std::vector<Span> covered;
  for (int64_t row = 0; row < length / width; row++) {
    const int64_t y = first.accY0 + row;
    covered.clear();
    for (const Job& j : jobs) {
      if (y >= j.r.y0 && y < j.r.y1 && j.r.x0 < j.r.x1) covered.push_back({j.r.x0 - j.accX0, j.r.x1 - j.accX0});
    }
    std::sort(covered.begin(), covered.end(), [](const Span& a, const Span& b) { return a.from < b.from; });
    int64_t x = 0;
    auto zero = [&](int64_t from, int64_t to) {
      if (from < to) std::fill(base + (row * width + from) * elementSize, base + (row * width + to) * elementSize, 0);
    };
    for (const Span& c : covered) {
      zero(x, c.from);
      x = std::max(x, c.to);
    }
    zero(x, width);
  }
}

// A batch of jobs running on its own thread. The typed arrays it reads and writes are held
// by references until wait(); JS must leave them alone until then (lib/blend.ts does).
struct Background {
  std::thread worker;
  std::vector<Napi::Reference<Napi::Value>> held;
  std::string error;  // set by the worker, read after join
  double seconds = 0;
  // A batch dropped without wait() (the job is ending on an error) still must not outlive its thread.
  ~Background() {
    if (worker.joinable()) worker.join();
  }
};

// wait(): joins the batch's thread, returns the seconds it computed; idempotent.
Napi::Value WaitJs(const Napi::CallbackInfo& info) {
  auto* batch = static_cast<Background*>(info.Data());
  if (batch->worker.joinable()) batch->worker.join();
  batch->held.clear();
  if (!batch->error.empty()) ThrowWithCode(info.Env(), kCodeKernel, "background accumulate failed: " + batch->error);
  return Napi::Number::New(info.Env(), batch->seconds);
}

// startAccumulate({band, jobs: [accumulate() arguments]}): checks every job here, then runs them
// in order on a new thread (no JS, HDF5 or MPI there) and returns its wait() function; the main
// thread meanwhile does I/O on other buffers. `band` is the jobs' accumulator (whole rows) and
// may hold anything: each pixel is set by the first job covering it, zero where none does, as if
// it had been cleared first (without the extra pass over memory).
Napi::Value StartAccumulateJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) ThrowTypeError(env, "an object", "startAccumulate() arguments", info[0]);
  Napi::Object args = info[0].As<Napi::Object>();
  Napi::Value bandValue = args.Get("band");
  if (!IsFloatArray(bandValue)) ThrowTypeError(env, "a Float32Array or Float64Array", "band", bandValue);
  auto band = bandValue.As<Napi::TypedArray>();
  Napi::Value jobsValue = args.Get("jobs");
  if (!jobsValue.IsArray()) ThrowTypeError(env, "an array of accumulate() arguments", "jobs", jobsValue);
  Napi::Array jobArray = jobsValue.As<Napi::Array>();
  auto batch = std::make_unique<Background>();
  std::vector<Job> jobs;
  for (uint32_t i = 0; i < jobArray.Length(); i++) {
    Napi::Value v = jobArray.Get(i);
    Job job = ParseJob(env, v);
    job.fresh = true;
    const Job& like = jobs.empty() ? job : jobs[0];
    if (job.acc != DataOf(band) || job.accType != band.TypedArrayType() || job.accWidth != like.accWidth ||
        job.accY0 != like.accY0 || job.accX0 != like.accX0 || static_cast<int64_t>(band.ElementLength()) % job.accWidth != 0) {
      ThrowWithCode(env, kCodeRange, "job " + std::to_string(i) + " does not accumulate into `band` (whole rows, one accWidth, accY0 and accX0)");
    }
    jobs.push_back(std::move(job));
    Napi::Object o = v.As<Napi::Object>();
    batch->held.push_back(Napi::Persistent(o.Get("data")));
  }
  batch->held.push_back(Napi::Persistent(bandValue));
  const int64_t bandLength = static_cast<int64_t>(band.ElementLength());
  auto* bandBytes = static_cast<uint8_t*>(DataOf(band));
  const size_t bandByteLength = band.ByteLength();
  Background* b = batch.get();
  b->worker = std::thread([b, bandLength, bandBytes, bandByteLength, jobs = std::move(jobs)] {
    const auto start = std::chrono::steady_clock::now();
    try {
      if (jobs.empty()) std::fill(bandBytes, bandBytes + bandByteLength, 0);  // all-zero bytes are +0.0
      else ZeroUncovered(jobs, bandLength);
      for (const Job& j : jobs) Run(j);
    } catch (const std::exception& e) {
      b->error = e.what();
    }
    b->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  });
  Napi::Function wait = Napi::Function::New(env, WaitJs, "wait", b);
  wait.AddFinalizer([](Napi::Env, Background* done) { delete done; }, batch.release());
  return wait;
}

// JavaScript's Math.round: the nearest integer, halves toward +infinity (v - floor(v) is exact).
inline double JsRound(double v) {
  const double r = std::floor(v);
  return v - r >= 0.5 ? r + 1.0 : r;
}

// out[i] = clip(JsRound(acc[i])) for an integer `out`; a NaN is stored as 0 (as a JS typed array
// would) and the first one's index is returned (-1 when none).
template <typename Out, typename Acc>
int64_t ConvertTo(const Acc* acc, Out* out, int64_t n) {
  constexpr double lo = static_cast<double>(std::numeric_limits<Out>::lowest());
  constexpr double hi = static_cast<double>(std::numeric_limits<Out>::max());
  int64_t firstNaN = -1;
  for (int64_t i = 0; i < n; i++) {
    const double v = JsRound(static_cast<double>(acc[i]));
    if (std::isnan(v)) {
      if (firstNaN < 0) firstNaN = i;
      out[i] = 0;
      continue;
    }
    out[i] = static_cast<Out>(v < lo ? lo : v > hi ? hi : v);
  }
  return firstNaN;
}

template <typename Acc>
int64_t ConvertFrom(const Acc* acc, void* out, napi_typedarray_type outType, int64_t n) {
  switch (outType) {
    case napi_int8_array: return ConvertTo(acc, static_cast<int8_t*>(out), n);
    case napi_uint8_array: return ConvertTo(acc, static_cast<uint8_t*>(out), n);
    case napi_int16_array: return ConvertTo(acc, static_cast<int16_t*>(out), n);
    case napi_uint16_array: return ConvertTo(acc, static_cast<uint16_t*>(out), n);
    case napi_int32_array: return ConvertTo(acc, static_cast<int32_t*>(out), n);
    case napi_uint32_array: return ConvertTo(acc, static_cast<uint32_t*>(out), n);
    default: return -1;  // ConvertJs admits only the types above
  }
}

// convert(acc, out) -> index of the first NaN or -1: rounds (as Math.round) and clips a float
// accumulator into an integer array of the same length (runtime/kernel.ts convertInto).
Napi::Value ConvertJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsFloatArray(info[0])) ThrowTypeError(env, "a Float32Array or Float64Array", "convert() accumulator", info[0]);
  auto acc = info[0].As<Napi::TypedArray>();
  const napi_typedarray_type outType = info[1].IsTypedArray() ? info[1].As<Napi::TypedArray>().TypedArrayType() : napi_float64_array;
  if (!info[1].IsTypedArray() || outType == napi_float32_array || outType == napi_float64_array || !IsNumericArray(info[1])) {
    ThrowTypeError(env, "an 8, 16 or 32-bit integer typed array", "convert() output", info[1]);
  }
  auto out = info[1].As<Napi::TypedArray>();
  if (out.ElementLength() != acc.ElementLength()) {
    ThrowWithCode(env, kCodeRange, "convert(): output has " + std::to_string(out.ElementLength()) + " elements, accumulator " +
                                       std::to_string(acc.ElementLength()));
  }
  const auto n = static_cast<int64_t>(acc.ElementLength());
  const int64_t nan = acc.TypedArrayType() == napi_float32_array
                          ? ConvertFrom(static_cast<const float*>(DataOf(acc)), DataOf(out), outType, n)
                          : ConvertFrom(static_cast<const double*>(DataOf(acc)), DataOf(out), outType, n);
  return Napi::Number::New(env, static_cast<double>(nan));
}

}  // namespace

void Register(Napi::Env env, Napi::Object exports) {
  exports.Set("accumulate", Napi::Function::New(env, AccumulateJs, "accumulate"));
  exports.Set("convert", Napi::Function::New(env, ConvertJs, "convert"));
  exports.Set("startAccumulate", Napi::Function::New(env, StartAccumulateJs, "startAccumulate"));
}

}  // namespace h5stitch::kernels
