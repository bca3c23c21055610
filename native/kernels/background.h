// Work on a second thread while the main thread does I/O (slab --pipeline).
#pragma once

#include <napi.h>

#include <functional>
#include <vector>

namespace h5stitch::kernels {

// Runs `work` on a new thread, which must touch no JS, HDF5 or MPI, and returns wait(): it joins
// the thread and returns the seconds `work` took, or throws ERR_KERNEL "<what> failed: ..." when
// it threw; idempotent. The `held` values (the typed arrays `work` reads and writes) stay
// referenced until then; JS must leave them alone meanwhile (lib/blend.ts does).
Napi::Function StartBackground(Napi::Env env, const char* what, const std::vector<Napi::Value>& held,
                               std::function<void()> work);

}  // namespace h5stitch::kernels
