// downsample(src, rows, width, out): the next pyramid level of a block of rows (downsample.h).
#include <string>

#include "common/args.h"
#include "common/errors.h"
#include "kernels/bindings.h"
#include "kernels/downsample.h"

namespace h5stitch::kernels {
namespace {

Napi::Value DownsampleJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsNumericArray(info[0])) ThrowTypeError(env, "a numeric typed array (not BigInt)", "src", info[0]);
  if (!IsNumericArray(info[3])) ThrowTypeError(env, "a numeric typed array (not BigInt)", "out", info[3]);
  auto src = info[0].As<Napi::TypedArray>();
  auto out = info[3].As<Napi::TypedArray>();
  const int64_t rowsArg = SafeInteger(env, info[1], "a non-negative integer", "rows", info[1]);
  const int64_t widthArg = SafeInteger(env, info[2], "a positive integer", "width", info[2]);
  if (rowsArg < 0) ThrowTypeError(env, "a non-negative integer", "rows", info[1]);
  if (widthArg < 1) ThrowTypeError(env, "a positive integer", "width", info[2]);
  const size_t rows = static_cast<size_t>(rowsArg), width = static_cast<size_t>(widthArg);
  if (src.TypedArrayType() != out.TypedArrayType()) ThrowWithCode(env, kCodeRange, "src and out must be typed arrays of one type");
  const size_t outElements = ((rows + 1) / 2) * ((width + 1) / 2);
  if (src.ElementLength() != rows * width || out.ElementLength() != outElements) {
    ThrowWithCode(env, kCodeRange, "src has " + std::to_string(src.ElementLength()) + " elements for " + std::to_string(rows) + "x" +
                                       std::to_string(width) + " and out " + std::to_string(out.ElementLength()) + " for " +
                                       std::to_string(outElements));
  }
  const auto* srcBytes = static_cast<const uint8_t*>(DataOf(src));
  const auto* outBytes = static_cast<const uint8_t*>(DataOf(out));
  if (srcBytes < outBytes + out.ByteLength() && outBytes < srcBytes + src.ByteLength()) {
    ThrowWithCode(env, kCodeRange, "src and out share memory");
  }
  Downsample(DataOf(src), DataOf(out), ElementOf(src), rows, width);
  return env.Undefined();
}

}  // namespace

void RegisterDownsample(Napi::Env env, Napi::Object exports) {
  exports.Set("downsample", Napi::Function::New(env, DownsampleJs, "downsample"));
}

}  // namespace h5stitch::kernels
