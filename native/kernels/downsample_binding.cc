// downsample(src, rows, width, out): the next pyramid level of a block of rows (downsample.h);
// startDownsample(steps): a chain of them on a background thread.
#include <cstring>
#include <string>
#include <vector>

#include "common/args.h"
#include "common/errors.h"
#include "kernels/background.h"
#include "kernels/bindings.h"
#include "kernels/downsample.h"

namespace h5stitch::kernels {
namespace {

// One checked downsample (or, with rows absent, a copy of `src` into `out`: a row carried to the
// next call, which the background chain must make after the rows it comes from).
struct Step {
  const void* src;
  void* out;
  Element type;
  size_t rows, width;  // width 0: copy src.ByteLength() bytes
  size_t bytes;
};

Step CheckStep(Napi::Env env, Napi::Value srcValue, Napi::Value rowsValue, Napi::Value widthValue, Napi::Value outValue, bool copy) {
  if (!IsNumericArray(srcValue)) ThrowTypeError(env, "a numeric typed array (not BigInt)", "src", srcValue);
  if (!IsNumericArray(outValue)) ThrowTypeError(env, "a numeric typed array (not BigInt)", "out", outValue);
  auto src = srcValue.As<Napi::TypedArray>();
  auto out = outValue.As<Napi::TypedArray>();
  if (src.TypedArrayType() != out.TypedArrayType()) ThrowWithCode(env, kCodeRange, "src and out must be typed arrays of one type");
  size_t rows = 0, width = 0;
  if (copy) {
    if (src.ElementLength() != out.ElementLength()) ThrowWithCode(env, kCodeRange, "a copy's src and out must have one length");
  } else {
    const int64_t rowsArg = SafeInteger(env, rowsValue, "a non-negative integer", "rows", rowsValue);
    const int64_t widthArg = SafeInteger(env, widthValue, "a positive integer", "width", widthValue);
    if (rowsArg < 0) ThrowTypeError(env, "a non-negative integer", "rows", rowsValue);
    if (widthArg < 1) ThrowTypeError(env, "a positive integer", "width", widthValue);
    rows = static_cast<size_t>(rowsArg);
    width = static_cast<size_t>(widthArg);
    const size_t outElements = ((rows + 1) / 2) * ((width + 1) / 2);
    if (src.ElementLength() != rows * width || out.ElementLength() != outElements) {
      ThrowWithCode(env, kCodeRange, "src has " + std::to_string(src.ElementLength()) + " elements for " + std::to_string(rows) + "x" +
                                         std::to_string(width) + " and out " + std::to_string(out.ElementLength()) + " for " +
                                         std::to_string(outElements));
    }
  }
  const auto* srcBytes = static_cast<const uint8_t*>(DataOf(src));
  const auto* outBytes = static_cast<const uint8_t*>(DataOf(out));
  if (srcBytes < outBytes + out.ByteLength() && outBytes < srcBytes + src.ByteLength()) {
    ThrowWithCode(env, kCodeRange, "src and out share memory");
  }
  return {DataOf(src), DataOf(out), ElementOf(src), rows, width, src.ByteLength()};
}

void RunStep(const Step& s) {
  if (s.width == 0) std::memcpy(s.out, s.src, s.bytes);
  else Downsample(s.src, s.out, s.type, s.rows, s.width);
}

Napi::Value DownsampleJs(const Napi::CallbackInfo& info) {
  RunStep(CheckStep(info.Env(), info[0], info[1], info[2], info[3], false));
  return info.Env().Undefined();
}

// startDownsample([{src, rows, width, out} | {src, out}]): checks every step here, then runs them
// in order on a new thread (a level's steps may read what an earlier step wrote) and returns its
// wait() function (background.h). A step without rows copies src into out.
Napi::Value StartDownsampleJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) ThrowTypeError(env, "an array of downsample steps", "steps", info[0]);
  Napi::Array array = info[0].As<Napi::Array>();
  std::vector<Step> steps;
  std::vector<Napi::Value> held;
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value v = array.Get(i);
    if (!v.IsObject()) ThrowTypeError(env, "an object", "step", v);
    Napi::Object o = v.As<Napi::Object>();
    Napi::Value rows = o.Get("rows");
    steps.push_back(CheckStep(env, o.Get("src"), rows, o.Get("width"), o.Get("out"), rows.IsUndefined()));
    held.push_back(o.Get("src"));
    held.push_back(o.Get("out"));
  }
  return StartBackground(env, "background downsample", held, [steps = std::move(steps)] {
    for (const Step& s : steps) RunStep(s);
    return 0.0;  // reads no input
  });
}

}  // namespace

void RegisterDownsample(Napi::Env env, Napi::Object exports) {
  exports.Set("downsample", Napi::Function::New(env, DownsampleJs, "downsample"));
  exports.Set("startDownsample", Napi::Function::New(env, StartDownsampleJs, "startDownsample"));
}

}  // namespace h5stitch::kernels
