// Work on a second thread while the main thread does I/O (slab --pipeline).
#pragma once

#include <napi.h>

#include <functional>
#include <stdexcept>
#include <vector>

namespace h5stitch::kernels {

// Thrown by a batch's work when an input cannot be read (its message names the input and the
// cause): wait() throws it as ERR_INPUT, bad input rather than a defect of the kernel.
struct InputFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Runs `work` on a new thread, which must touch no JS, HDF5 or MPI, and returns wait(): it joins
// the thread and returns { seconds, readSeconds }: the seconds `work` took, and those of them it
// spent reading input (what `work` returns). It throws ERR_INPUT with the message of an
// InputFailure, or ERR_KERNEL "<what> failed: ..." when `work` threw anything else; idempotent.
// The `held` values (the typed arrays `work` reads and writes) stay referenced until then; JS must
// leave them alone meanwhile (lib/stitch/engine.ts does).
Napi::Function StartBackground(Napi::Env env, const char* what, const std::vector<Napi::Value>& held,
                               std::function<double()> work);

}  // namespace h5stitch::kernels
