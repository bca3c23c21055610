// convert(acc, out) -> index of the first NaN stored as 0 into an integer `out`, or -1: the end of
// every strategy, converting the float accumulator into the output dtype (see convert.h).

#include "common/args.h"
#include "common/errors.h"
#include "kernels/bindings.h"
#include "kernels/convert.h"

namespace h5stitch::kernels {
namespace {

Napi::Value ConvertJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto acc = FloatArrayArg(env, info[0], "acc");
  if (!IsNumericArray(info[1])) ThrowTypeError(env, "a numeric typed array (not BigInt)", "out", info[1]);
  auto out = info[1].As<Napi::TypedArray>();
  RequireLengthOfAcc(env, out, "out", acc);
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
