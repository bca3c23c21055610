// firstMismatch(acc, got) -> index of the first pixel of an integer `got` that is not the output
// value of `acc`, or -1: verify's band check (see verify_compare.h).
#include <string>

#include "common/args.h"
#include "common/errors.h"
#include "kernels/bindings.h"
#include "kernels/verify_compare.h"

namespace h5stitch::kernels {
namespace {

Napi::Value FirstMismatchJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsFloatArray(info[0])) ThrowTypeError(env, "a Float32Array or Float64Array", "acc", info[0]);
  if (!IsNumericArray(info[1]) || IsFloatArray(info[1])) {
    ThrowTypeError(env, "an integer typed array (not BigInt)", "got", info[1]);
  }
  auto acc = info[0].As<Napi::TypedArray>();
  auto got = info[1].As<Napi::TypedArray>();
  if (got.ElementLength() != acc.ElementLength()) {
    ThrowWithCode(env, kCodeRange, "got has " + std::to_string(got.ElementLength()) + " elements, acc " +
                                       std::to_string(acc.ElementLength()));
  }
  const int64_t first = FirstMismatch(DataOf(acc), ElementOf(acc), DataOf(got), ElementOf(got), acc.ElementLength());
  return Napi::Number::New(env, static_cast<double>(first));
}

}  // namespace

void RegisterVerifyCompare(Napi::Env env, Napi::Object exports) {
  exports.Set("firstMismatch", Napi::Function::New(env, FirstMismatchJs, "firstMismatch"));
}

}  // namespace h5stitch::kernels
