// Error plumbing shared by every native module: JS errors carrying a stable `code`, TypeErrors in
// the "Expected X for Y but received Z" form, and HDF5 error-stack capture.
#pragma once

#include <napi.h>

#include <string>

namespace h5stitch {

// Error codes the TypeScript side maps onto H5StitchError.code.
constexpr const char* kCodeHdf5 = "ERR_HDF5";
constexpr const char* kCodeMpi = "ERR_MPI";
constexpr const char* kCodeMpiState = "ERR_MPI_STATE";
constexpr const char* kCodeClosed = "ERR_CLOSED";
constexpr const char* kCodeRange = "ERR_OUT_OF_RANGE";
constexpr const char* kCodeDtype = "ERR_DTYPE";
constexpr const char* kCodeKernel = "ERR_KERNEL";
// An input that cannot be read as planned (JS: InputError, exit 2).
constexpr const char* kCodeInput = "ERR_INPUT";

// Throws `new ctor(code, message)` with the constructor given to setErrorConstructor(), else an
// Error with a `code` property.
[[noreturn]] void ThrowWithCode(Napi::Env env, const char* code, const std::string& message);

// Throws TypeError("Expected <expected> for <what> but received <Describe(received)>") with code
// ERR_INVALID_ARG_TYPE, like Node's own argument checks.
[[noreturn]] void ThrowTypeError(Napi::Env env, const std::string& expected, const std::string& what,
                                 const Napi::Value& received);

// Describes a JS value for error messages: `number 3`, `string "x"`, `undefined`...
std::string Describe(const Napi::Value& value);

// Reads the HDF5 error stack of the calling thread into one line per frame and clears it.
std::string TakeHdf5ErrorStack();

// Throws ERR_HDF5 with `what` followed by the HDF5 error stack when `status` is negative.
void CheckHdf5(Napi::Env env, long long status, const std::string& what);

// setErrorConstructor(ctor): the class ThrowWithCode instantiates in this environment.
Napi::Value SetErrorConstructor(const Napi::CallbackInfo& info);

}  // namespace h5stitch
