// accumulate() and startAccumulate(): every argument is checked here, including every index the
// kernel will touch, so a bad call throws and blend.cc never writes out of bounds.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/args.h"
#include "common/errors.h"
#include "kernels/background.h"
#include "kernels/bindings.h"
#include "kernels/blend.h"
#include "os/file_runs.h"

namespace h5stitch::kernels {
namespace {

std::vector<Rect> RectsArg(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      v.As<Napi::TypedArray>().ElementLength() % 5 != 0) {
    ThrowTypeError(env, "an Int32Array of [order, y, x, height, width] records", name, v);
  }
  auto a = v.As<Napi::Int32Array>();
  std::vector<Rect> out;
  for (size_t i = 0; i < a.ElementLength(); i += 5) out.push_back({a[i], a[i + 1], a[i + 2], a[i + 3], a[i + 4]});
  return out;
}

Region RegionArg(Napi::Env env, const Napi::Value& value) {
  if (!value.IsArray() || value.As<Napi::Array>().Length() != 4) ThrowTypeError(env, "[y0, y1, x0, x1]", "region", value);
  Napi::Array array = value.As<Napi::Array>();
  int64_t v[4];
  for (uint32_t i = 0; i < 4; i++) v[i] = SafeInteger(env, array.Get(i), "[y0, y1, x0, x1] integers", "region", value);
  return Region{v[0], v[1], v[2], v[3]};
}

std::string RegionText(const Region& r) {
  return "[" + std::to_string(r.y0) + "," + std::to_string(r.y1) + ")x[" + std::to_string(r.x0) + "," +
         std::to_string(r.x1) + ")";
}

// The fields of one accumulate() argument object, each checked on its own.
Job JobFields(Napi::Env env, const Napi::Object& args) {
  Job job;
  auto acc = FloatArrayArg(env, args.Get("acc"), "acc");
  job.acc = DataOf(acc);
  job.accType = ElementOf(acc);
  job.accWidth = IntegerField(env, args, "accWidth");
  job.accY0 = IntegerField(env, args, "accY0");
  job.accX0 = IntegerField(env, args, "accX0");
  std::vector<Rect> tile = RectsArg(env, args.Get("tile"), "tile");
  if (tile.size() != 1) ThrowTypeError(env, "an Int32Array of one [order, y, x, height, width] record", "tile", args.Get("tile"));
  job.tile = tile[0];
  job.covering = RectsArg(env, args.Get("covering"), "covering");
  Napi::Value data = args.Get("data");
  if (!IsNumericArray(data)) ThrowTypeError(env, "a numeric typed array (not BigInt)", "data", data);
  job.data = DataOf(data.As<Napi::TypedArray>());
  job.dataType = ElementOf(data.As<Napi::TypedArray>());
  job.r = RegionArg(env, args.Get("region"));
  static const Blend kBlends[] = {Blend::kLinear, Blend::kNone, Blend::kMax};
  job.blend = kBlends[OneOf(env, args.Get("blend"), {"linear", "none", "max"}, "'linear' | 'none' | 'max'", "blend")];
  return job;
}

// The region lies in the tile and in acc (accLength elements); data (dataLength) holds all of it.
void CheckGeometry(Napi::Env env, const Job& job, int64_t accLength, int64_t dataLength) {
  const Rect& tile = job.tile;
  const Region& r = job.r;
  if (tile.height < 0 || tile.width < 0 || r.y0 < tile.y || r.y1 > tile.y + tile.height || r.x0 < tile.x ||
      r.x1 > tile.x + tile.width || r.y0 > r.y1 || r.x0 > r.x1) {
    ThrowWithCode(env, kCodeRange, "region " + RegionText(r) + " is not inside tile " + std::to_string(tile.order) + " (order)");
  }
  if (r.y0 < r.y1 && r.x0 < r.x1 &&
      (job.accWidth <= 0 || r.y0 < job.accY0 || r.x0 < job.accX0 || r.x1 - job.accX0 > job.accWidth ||
       (r.y1 - job.accY0) * job.accWidth > accLength)) {
    ThrowWithCode(env, kCodeRange, "region " + RegionText(r) + " is not inside the accumulator");
  }
  const int64_t need = (r.y1 - r.y0) * (r.x1 - r.x0);
  if (dataLength < need) {
    ThrowWithCode(env, kCodeRange, "data has " + std::to_string(dataLength) + " values, region needs " + std::to_string(need));
  }
}

// Canonical order, and the tile itself among them (else W would miss its own weight).
void CheckCovering(Napi::Env env, const Job& job) {
  const Rect& tile = job.tile;
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
}

Job ParseJob(Napi::Env env, const Napi::Value& argsValue) {
  if (!argsValue.IsObject()) ThrowTypeError(env, "an object", "accumulate() arguments", argsValue);
  Napi::Object args = argsValue.As<Napi::Object>();
  Job job = JobFields(env, args);
  CheckGeometry(env, job, static_cast<int64_t>(args.Get("acc").As<Napi::TypedArray>().ElementLength()),
                static_cast<int64_t>(args.Get("data").As<Napi::TypedArray>().ElementLength()));
  CheckCovering(env, job);
  return job;
}

// accumulate({acc, accWidth, accY0, accX0, tile, covering, data, region: [y0,y1,x0,x1], blend,
// fresh?}): adds `data` (the tile's pixels of `region`, row-major) into `acc`, whose [0] is canvas
// (accY0, accX0), weighted by `blend`. fresh: acc may hold anything where this tile is a pixel's
// first covering tile (earlier tiles' calls done, in canonical order); it is set there as if acc
// were zero (see Job::fresh, and zeroUncovered for the pixels no tile covers).
Napi::Value AccumulateJs(const Napi::CallbackInfo& info) {
  Job job = ParseJob(info.Env(), info[0]);
  job.fresh = BoolOption(info.Env(), info[0].As<Napi::Object>(), "fresh", false);
  // Only background jobs read their data (startAccumulate): a `read` here would be ignored.
  Napi::Value read = info[0].As<Napi::Object>().Get("read");
  if (!read.IsUndefined()) ThrowTypeError(info.Env(), "undefined (only startAccumulate jobs read their data)", "read", read);
  Run(job);
  return info.Env().Undefined();
}

// A startAccumulate() job: one accumulate() argument object writing into `band`, fresh.
Job BandJob(Napi::Env env, const Napi::Value& value, const Napi::TypedArray& band, const Job* first, uint32_t i) {
  Job job = ParseJob(env, value);
  job.fresh = true;
  const Job& like = first ? *first : job;
  if (job.acc != DataOf(band) || job.accType != ElementOf(band) || job.accWidth != like.accWidth ||
      job.accY0 != like.accY0 || job.accX0 != like.accX0 || static_cast<int64_t>(band.ElementLength()) % job.accWidth != 0) {
    ThrowWithCode(env, kCodeRange, "job " + std::to_string(i) + " does not accumulate into `band` (whole rows, one accWidth, accY0 and accX0)");
  }
  return job;
}

// A job's data read from a file on the thread, just before its blend (startAccumulate's `read`).
struct DataRead {
  os::FileRuns runs;
  void* into;
  std::string what;
};

// Job i's `read`: { fd, offset, rows, rowBytes, strideBytes, what }, or nullopt when absent. Its
// bytes must fill the job's data exactly (the thread writes them there: never past its end), one
// run per region row or one run of them all, so any of its rows can be read on their own.
std::optional<DataRead> ReadField(Napi::Env env, const Napi::Object& args, const Job& job, uint32_t i) {
  Napi::Value value = args.Get("read");
  if (value.IsUndefined()) return std::nullopt;
  if (!value.IsObject()) ThrowTypeError(env, "{ fd, offset, rows, rowBytes, strideBytes, what }", "read", value);
  Napi::Object read = value.As<Napi::Object>();
  auto count = [&](const char* name, int64_t max) {
    Napi::Value v = read.Get(name);
    const int64_t n = SafeInteger(env, v, "a non-negative integer", std::string("read.") + name, v);
    if (n < 0 || n > max) ThrowTypeError(env, "a non-negative integer", std::string("read.") + name, v);
    return n;
  };
  const int fd = static_cast<int>(count("fd", INT_MAX));
  // (Braced initialisers are evaluated in order.)
  const os::FileRuns runs{fd, count("offset", INT64_MAX), count("rows", INT64_MAX), count("rowBytes", INT64_MAX), count("strideBytes", INT64_MAX)};
  Napi::Value what = read.Get("what");
  if (!what.IsString()) ThrowTypeError(env, "a string", "read.what", what);
  auto data = args.Get("data").As<Napi::TypedArray>();
  // Every count is a safe integer (< 2^53), so these products and sums fit in 128 bits.
  using Wide = __int128;
  if (static_cast<Wide>(runs.rows) * runs.rowBytes != static_cast<Wide>(data.ByteLength())) {
    ThrowWithCode(env, kCodeRange, "job " + std::to_string(i) + " reads " + std::to_string(runs.rows) + " runs of " + std::to_string(runs.rowBytes) +
                                       " bytes into data of " + std::to_string(data.ByteLength()) + " bytes; they must fill it exactly");
  }
  if (runs.rows > 0 && static_cast<Wide>(runs.offset) + static_cast<Wide>(runs.rows - 1) * runs.strideBytes + runs.rowBytes > INT64_MAX) {
    ThrowWithCode(env, kCodeRange, "job " + std::to_string(i) + " reads past the largest file offset");
  }
  const int64_t rows = job.r.y1 - job.r.y0, rowBytes = (job.r.x1 - job.r.x0) * ElementSize(job.dataType);
  os::FileRuns part;
  if (data.ByteLength() != static_cast<size_t>(rows * rowBytes) || !os::RowsOf(runs, rows, rowBytes, 0, rows, part)) {
    ThrowWithCode(env, kCodeRange, "job " + std::to_string(i) + " reads " + std::to_string(runs.rows) + " runs of " + std::to_string(runs.rowBytes) +
                                       " bytes, not one run per row of its region (" + std::to_string(rows) + " of " + std::to_string(rowBytes) +
                                       " bytes) or one run of them all");
  }
  return DataRead{runs, DataOf(data), what.As<Napi::String>().Utf8Value()};
}

// A band's blend (startAccumulate) cut into strips of rows, the tasks the batch's thread and the
// waiting main thread share: each strip reads its rows of every job's data, then blends them, in
// job order. Strips touch disjoint rows of the band and of every job's data, and each row is
// blended on its own (RunRows), so the bits do not depend on which thread took which strip.
class BandBlend : public SharedTasks {
 public:
  BandBlend(std::vector<Job> jobs, std::vector<std::optional<DataRead>> reads, void* band, size_t bandBytes, int64_t bandRows)
      : jobs_(std::move(jobs)), reads_(std::move(reads)), band_(static_cast<uint8_t*>(band)), bandBytes_(bandBytes), bandRows_(bandRows),
        // A few strips a thread at least, so the one that finishes first is not left waiting long.
        stripRows_(std::max<int64_t>(1, (bandRows + kStrips - 1) / kStrips)), strips_((bandRows + stripRows_ - 1) / stripRows_) {}

  void Take() override {
    double busy = 0, reading = 0;
    for (;;) {
      if (failed_.load(std::memory_order_relaxed)) break;
      const int64_t strip = next_.fetch_add(1);
      if (strip >= strips_) break;
      const auto start = std::chrono::steady_clock::now();
      try {
        reading += RunStrip(strip);
      } catch (const InputFailure& e) {
        Fail(strip, e.what(), true);
      } catch (const std::exception& e) {
        Fail(strip, e.what(), false);
      } catch (...) {
        Fail(strip, "unknown error", false);  // nothing may unwind out of a thread
      }
      busy += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    seconds_ += busy;
    readSeconds_ += reading;
  }

  std::pair<double, double> Finish() override {
    if (failedStrip_ < strips_) {
      if (inputFailed_) throw InputFailure(error_);
      throw std::runtime_error(error_);
    }
    return {seconds_, readSeconds_};
  }

 private:
  // 8, 16 and 32 measured alike (one rank, 476 MiB: 0.32-0.35 s), against 0.36-0.64 s unshared.
  static constexpr int64_t kStrips = 16;

  // Reads and blends accumulator rows [strip * stripRows_, ...); returns the seconds spent reading.
  double RunStrip(int64_t strip) {
    const int64_t row0 = strip * stripRows_, row1 = std::min(bandRows_, row0 + stripRows_);
    if (jobs_.empty()) {  // all-zero bytes are +0.0
      const size_t rowBytes = bandBytes_ / static_cast<size_t>(bandRows_);
      std::fill(band_ + row0 * rowBytes, band_ + row1 * rowBytes, 0);
      return 0;
    }
    ZeroUncovered(jobs_, row0, row1);
    const int64_t y0 = jobs_[0].accY0 + row0, y1 = jobs_[0].accY0 + row1;
    double reading = 0;
    for (size_t j = 0; j < jobs_.size(); j++) {
      const Job& job = jobs_[j];
      const int64_t from = std::max(job.r.y0, y0), to = std::min(job.r.y1, y1);
      if (from >= to) continue;
      // Read just before the blend: the rows are still in cache when the kernel adds them.
      if (const std::optional<DataRead>& read = reads_[j]) {
        const int64_t rowBytes = (job.r.x1 - job.r.x0) * ElementSize(job.dataType);
        os::FileRuns part;
        os::RowsOf(read->runs, job.r.y1 - job.r.y0, rowBytes, from - job.r.y0, to - job.r.y0, part);  // checked by ReadField
        const auto start = std::chrono::steady_clock::now();
        const std::string error = os::ReadRuns(part, static_cast<uint8_t*>(read->into) + (from - job.r.y0) * rowBytes, read->what);
        reading += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (!error.empty()) throw InputFailure(error);
      }
      RunRows(job, y0, y1);
    }
    return reading;
  }

  // Keeps the failure of the first strip: strips are taken in order, so every strip before it
  // has been taken by then and ends (failed or not) before Finish().
  void Fail(int64_t strip, const std::string& error, bool input) {
    std::lock_guard<std::mutex> lock(mutex_);
    failed_.store(true, std::memory_order_relaxed);
    if (strip > failedStrip_) return;
    failedStrip_ = strip;
    error_ = error;
    inputFailed_ = input;
  }

  const std::vector<Job> jobs_;
  const std::vector<std::optional<DataRead>> reads_;
  uint8_t* const band_;
  const size_t bandBytes_;
  const int64_t bandRows_, stripRows_, strips_;
  std::atomic<int64_t> next_{0};
  std::atomic<bool> failed_{false};
  std::mutex mutex_;  // guards what follows
  double seconds_ = 0, readSeconds_ = 0;
  int64_t failedStrip_ = INT64_MAX;
  std::string error_;
  bool inputFailed_ = false;
};

// The arguments object of `what` (startAccumulate, zeroUncovered) and its `band`, a float array.
std::pair<Napi::Object, Napi::TypedArray> BandArguments(Napi::Env env, const Napi::Value& value, const char* what) {
  if (!value.IsObject()) ThrowTypeError(env, "an object", std::string(what) + " arguments", value);
  Napi::Object args = value.As<Napi::Object>();
  return {args, FloatArrayArg(env, args.Get("band"), "band")};
}

// startAccumulate({band, jobs: [accumulate() arguments]}): checks every job here, then runs them
// in order on a new thread, shared with wait() (BandBlend), and returns wait() (see background.h).
// `band` is the jobs' accumulator (whole rows) and may hold anything: each pixel is set by the
// first job covering it, zero where none does, as if it had been cleared first (without the extra
// pass over memory). A job with `read` (ReadField) first reads its data from that file, on the
// thread (plain pread: the main thread may be in HDF5, which is not thread-safe); a short or
// failed read ends the batch, and wait() throws ERR_INPUT naming `read.what`. The fds must stay
// open until wait() returns.
Napi::Value StartAccumulateJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto [args, band] = BandArguments(env, info[0], "startAccumulate()");
  Napi::Value jobsValue = args.Get("jobs");
  if (!jobsValue.IsArray()) ThrowTypeError(env, "an array of accumulate() arguments", "jobs", jobsValue);
  Napi::Array jobArray = jobsValue.As<Napi::Array>();
  std::vector<Job> jobs;
  std::vector<std::optional<DataRead>> reads;
  std::vector<Napi::Value> held;
  for (uint32_t i = 0; i < jobArray.Length(); i++) {
    Napi::Value v = jobArray.Get(i);
    jobs.push_back(BandJob(env, v, band, jobs.empty() ? nullptr : &jobs[0], i));
    reads.push_back(ReadField(env, v.As<Napi::Object>(), jobs.back(), i));
    held.push_back(v.As<Napi::Object>().Get("data"));
  }
  held.push_back(band);
  // Without jobs, rows of any width: the band's elements one row each.
  const int64_t width = jobs.empty() ? 1 : jobs[0].accWidth;
  const int64_t rows = static_cast<int64_t>(band.ElementLength()) / width;
  return StartShared(env, "background accumulate", held,
                     std::make_shared<BandBlend>(std::move(jobs), std::move(reads), DataOf(band), band.ByteLength(), rows));
}

// zeroUncovered({band, accWidth, accY0, accX0, regions}): zeroes the pixels of `band` (whole rows
// accWidth wide, [0] at canvas (accY0, accX0)) that none of `regions` (an Int32Array of [y0, y1,
// x0, x1] canvas records, each inside the band) covers, and leaves the others: with fresh
// accumulate() calls over those regions the band ends as if it had been zeroed first.
Napi::Value ZeroUncoveredJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto [args, band] = BandArguments(env, info[0], "zeroUncovered()");
  Job shell;
  shell.acc = DataOf(band);
  shell.accType = ElementOf(band);
  shell.accWidth = IntegerField(env, args, "accWidth");
  shell.accY0 = IntegerField(env, args, "accY0");
  shell.accX0 = IntegerField(env, args, "accX0");
  const int64_t length = static_cast<int64_t>(band.ElementLength());
  if (shell.accWidth <= 0 || length % shell.accWidth != 0) {
    ThrowWithCode(env, kCodeRange, "band of " + std::to_string(length) + " values is not whole rows of accWidth " + std::to_string(shell.accWidth));
  }
  const int64_t rows = length / shell.accWidth;
  Napi::Value regionsValue = args.Get("regions");
  if (!regionsValue.IsTypedArray() || regionsValue.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      regionsValue.As<Napi::TypedArray>().ElementLength() % 4 != 0) {
    ThrowTypeError(env, "an Int32Array of [y0, y1, x0, x1] records", "regions", regionsValue);
  }
  auto regions = regionsValue.As<Napi::Int32Array>();
  std::vector<Job> jobs;
  for (size_t i = 0; i < regions.ElementLength(); i += 4) {
    Job job = shell;
    job.r = Region{regions[i], regions[i + 1], regions[i + 2], regions[i + 3]};
    if (job.r.y0 > job.r.y1 || job.r.x0 > job.r.x1 || job.r.y0 < shell.accY0 || job.r.y1 > shell.accY0 + rows ||
        job.r.x0 < shell.accX0 || job.r.x1 > shell.accX0 + shell.accWidth) {
      ThrowWithCode(env, kCodeRange, "region " + RegionText(job.r) + " is not inside the band");
    }
    jobs.push_back(std::move(job));
  }
  if (jobs.empty()) std::fill_n(static_cast<uint8_t*>(shell.acc), band.ByteLength(), 0);  // all-zero bytes are +0.0
  else ZeroUncovered(jobs, 0, rows);
  return env.Undefined();
}

}  // namespace

void RegisterBlend(Napi::Env env, Napi::Object exports) {
  exports.Set("accumulate", Napi::Function::New(env, AccumulateJs, "accumulate"));
  exports.Set("zeroUncovered", Napi::Function::New(env, ZeroUncoveredJs, "zeroUncovered"));
  exports.Set("startAccumulate", Napi::Function::New(env, StartAccumulateJs, "startAccumulate"));
}

}  // namespace h5stitch::kernels
