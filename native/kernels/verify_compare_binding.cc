// firstMismatch(acc, got) -> index of the first pixel of an integer `got` that is not the output
// value of `acc`, or -1: verify's band check (see verify_compare.h).

#include "common/args.h"
#include "common/errors.h"
#include "kernels/bindings.h"
#include "kernels/verify_compare.h"

namespace h5stitch::kernels {
namespace {

Napi::Value FirstMismatchJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto acc = FloatArrayArg(env, info[0], "acc");
  if (!IsNumericArray(info[1]) || IsFloatArray(info[1])) {
    ThrowTypeError(env, "an integer typed array (not BigInt)", "got", info[1]);
  }
  auto got = info[1].As<Napi::TypedArray>();
  RequireLengthOfAcc(env, got, "got", acc);
  const int64_t first = FirstMismatch(DataOf(acc), ElementOf(acc), DataOf(got), ElementOf(got), acc.ElementLength());
  return Napi::Number::New(env, static_cast<double>(first));
}

}  // namespace

void RegisterVerifyCompare(Napi::Env env, Napi::Object exports) {
  exports.Set("firstMismatch", Napi::Function::New(env, FirstMismatchJs, "firstMismatch"));
}

}  // namespace h5stitch::kernels
