// Error plumbing shared by every native module: JS errors carrying a stable
// `code`, argument checks that throw TypeError in the "Expected X for Y but
// received Z" form, and HDF5 error-stack capture.
#pragma once

#include <napi.h>

#include <cstdint>
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

// Thrown by C++ code that has no Napi::Env at hand; converted at the boundary.
struct NativeError {
  std::string code;
  std::string message;
};

[[noreturn]] void ThrowWithCode(Napi::Env env, const char* code, const std::string& message);
[[noreturn]] void ThrowTypeError(Napi::Env env, const std::string& expected, const std::string& what,
                                 const Napi::Value& received);

// A JS number that is a safe integer; else TypeError("Expected <expected> for <what> but received
// <reported>").
int64_t SafeInteger(Napi::Env env, const Napi::Value& v, const std::string& expected, const std::string& what,
                    const Napi::Value& reported);

// Describes a JS value for error messages: `number 3`, `string "x"`, `undefined`...
std::string Describe(const Napi::Value& value);

// Reads the HDF5 error stack of the calling thread into one line per frame and clears it.
std::string TakeHdf5ErrorStack();

// Throws ERR_HDF5 with `what` followed by the HDF5 error stack when `status` is negative.
void CheckHdf5(Napi::Env env, long long status, const std::string& what);

// Runs `body` and turns NativeError into a JS exception with its code.
template <typename F>
auto Guard(Napi::Env env, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const NativeError& e) {
    ThrowWithCode(env, e.code.c_str(), e.message);
  }
}

}  // namespace h5stitch
