// Work on a second thread while the main thread does I/O (slab --pipeline).
#pragma once

#include <napi.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <utility>
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

// Work in independent tasks that two threads can share: the batch's thread starts taking them at
// once, and wait() takes the rest on the main thread (idle otherwise: it has written its band)
// before it joins, so neither waits while tasks are left.
class SharedTasks {
 public:
  virtual ~SharedTasks() = default;
  // Takes tasks and runs them until none is left; runs on both threads at once; never throws.
  virtual void Take() = 0;
  // On the main thread, once no thread takes tasks any more: throws the failure of the first task
  // (in task order) that failed, an InputFailure for input, else returns { seconds, readSeconds }
  // summed over both threads.
  virtual std::pair<double, double> Finish() = 0;
};

// StartBackground for shared tasks: wait() returns or throws what `tasks->Finish()` does.
Napi::Function StartShared(Napi::Env env, const char* what, const std::vector<Napi::Value>& held,
                           std::shared_ptr<SharedTasks> tasks);

}  // namespace h5stitch::kernels
