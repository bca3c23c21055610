// registerPair(a, aShape, b, bShape, options): the Node-API face of phase_correlation.h. Strips of
// any numeric typed array are converted to doubles here, so callers pass tiles as read.
#include "register/register_binding.h"

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "common/args.h"
#include "common/errors.h"
#include "register/phase_correlation.h"

namespace h5stitch::reg {
namespace {

// The strip as doubles with its mean removed (what RegisterPair needs: see PairOptions::centred),
// in one pass over the output. Integer strips sum exactly in 64 bits; floating ones in 4 fixed lanes.
template <typename T>
void WidenCentred(const void* data, size_t n, std::vector<double>& out) {
  const T* v = static_cast<const T*>(data);
  out.resize(n);
  if (n == 0) return;
  double sum;
  if constexpr (std::is_integral_v<T>) {
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) total += v[i];
    sum = static_cast<double>(total);
  } else {
    double lane[4] = {};
    for (size_t i = 0; i < n; i++) lane[i % 4] += static_cast<double>(v[i]);
    sum = (lane[0] + lane[1]) + (lane[2] + lane[3]);
  }
  const double mean = sum / static_cast<double>(n);
  for (size_t i = 0; i < n; i++) out[i] = static_cast<double>(v[i]) - mean;
}

// The strip at info[i] with shape info[i + 1] ([height, width]), as centred doubles in `storage`.
Strip StripArg(const Napi::CallbackInfo& info, size_t i, const char* what, std::vector<double>& storage) {
  Napi::Env env = info.Env();
  if (!IsNumericArray(info[i])) ThrowTypeError(env, "a numeric typed array (not BigInt)", what, info[i]);
  auto shape = DimsOption<int>(env, info[i + 1], (std::string(what) + "Shape").c_str(), false);
  auto array = info[i].As<Napi::TypedArray>();
  if (shape.size() != 2 || static_cast<size_t>(shape[0]) * shape[1] != array.ElementLength()) {
    ThrowWithCode(env, kCodeRange, std::string(what) + " has " + std::to_string(array.ElementLength()) +
                                       " elements, which is not the product of its [height, width] shape");
  }
  const size_t n = array.ElementLength();
  const void* data = DataOf(array);
  switch (array.TypedArrayType()) {
    case napi_int8_array: WidenCentred<int8_t>(data, n, storage); break;
    case napi_uint8_array: WidenCentred<uint8_t>(data, n, storage); break;
    case napi_int16_array: WidenCentred<int16_t>(data, n, storage); break;
    case napi_uint16_array: WidenCentred<uint16_t>(data, n, storage); break;
    case napi_int32_array: WidenCentred<int32_t>(data, n, storage); break;
    case napi_uint32_array: WidenCentred<uint32_t>(data, n, storage); break;
    case napi_float32_array: WidenCentred<float>(data, n, storage); break;
    default: WidenCentred<double>(data, n, storage); break;
  }
  return Strip{storage.data(), shape[0], shape[1]};
}

Napi::Value RegisterPairJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // Reused across calls (the addon runs on the main thread only): see phase_correlation.cc's Scratch.
  static std::vector<double> sa, sb;
  const Strip a = StripArg(info, 0, "a", sa);
  const Strip b = StripArg(info, 2, "b", sb);
  Napi::Object o = OptionsArg(info, 4, "options");
  PairOptions options;
  options.centred = true;
  auto offset = o.Get("offset");
  if (!offset.IsArray() || offset.As<Napi::Array>().Length() != 2) ThrowTypeError(env, "an array [y, x]", "offset", offset);
  options.offsetY = static_cast<int>(SafeInteger(env, offset.As<Napi::Array>().Get(0u), "an integer", "offset[0]", offset));
  options.offsetX = static_cast<int>(SafeInteger(env, offset.As<Napi::Array>().Get(1u), "an integer", "offset[1]", offset));
  options.maxShift = static_cast<int>(IntegerField(env, o, "maxShift"));
  if (options.maxShift < 0) ThrowTypeError(env, "a non-negative integer", "maxShift", o.Get("maxShift"));
  if (!o.Get("peaks").IsUndefined()) options.peaks = static_cast<int>(IntegerField(env, o, "peaks"));
  if (!o.Get("minOverlap").IsUndefined()) options.minOverlap = IntegerField(env, o, "minOverlap");
  const PairResult r = RegisterPair(a, b, options);
  Napi::Object out = Napi::Object::New(env);
  out.Set("dy", r.dy);
  out.Set("dx", r.dx);
  out.Set("ncc", r.ncc);
  out.Set("overlap", static_cast<double>(r.overlap));
  out.Set("candidates", r.candidates);
  out.Set("fftSeconds", r.fftSeconds);
  out.Set("nccSeconds", r.nccSeconds);
  return out;
}

}  // namespace

void Register(Napi::Env env, Napi::Object exports) {
  exports.Set("registerPair", Napi::Function::New(env, RegisterPairJs, "registerPair"));
}

}  // namespace h5stitch::reg
