// convert(acc, out) -> index of the first NaN stored as 0 into an integer `out`, or -1: the end of
// every strategy, converting the float accumulator into the output dtype (see convert.h).
#include <string>

#include "common/args.h"
#include "common/errors.h"
#include "kernels/bindings.h"
#include "kernels/convert.h"

namespace h5stitch::kernels {
namespace {

Napi::Value ConvertJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsFloatArray(info[0])) ThrowTypeError(env, "a Float32Array or Float64Array", "acc", info[0]);
  if (!IsNumericArray(info[1])) ThrowTypeError(env, "a numeric typed array (not BigInt)", "out", info[1]);
  auto acc = info[0].As<Napi::TypedArray>();
  auto out = info[1].As<Napi::TypedArray>();
  if (out.ElementLength() != acc.ElementLength()) {
    ThrowWithCode(env, kCodeRange, "out has " + std::to_string(out.ElementLength()) + " elements, acc " +
                                       std::to_string(acc.ElementLength()));
  }
  // Converting in place would read elements already overwritten (lib/ never shares them).
  const auto* accBytes = static_cast<const uint8_t*>(DataOf(acc));
  const auto* outBytes = static_cast<const uint8_t*>(DataOf(out));
  if (accBytes < outBytes + out.ByteLength() && outBytes < accBytes + acc.ByteLength()) {
    ThrowWithCode(env, kCodeRange, "acc and out share memory");
  }
  const int64_t firstNaN = Convert(DataOf(acc), ElementOf(acc), DataOf(out), ElementOf(out), acc.ElementLength());
  return Napi::Number::New(env, static_cast<double>(firstNaN));
}

}  // namespace

void RegisterConvert(Napi::Env env, Napi::Object exports) {
  exports.Set("convert", Napi::Function::New(env, ConvertJs, "convert"));
}

}  // namespace h5stitch::kernels
