#include "kernels/background.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <thread>

#include "common/errors.h"

namespace h5stitch::kernels {
namespace {

// Set by setWorkerCpus('node'): batch threads leave the launcher's binding (Open MPI binds a rank
// to one core by default) and may run on any CPU the process's cpuset allows. A thread inherits
// its creator's mask, so without this the blend would only take turns with the main thread.
std::atomic<bool> widenWorkers{false};

void WidenThisThread() {
  cpu_set_t all;
  CPU_ZERO(&all);
  const long cpus = sysconf(_SC_NPROCESSORS_CONF);
  for (long c = 0; c < cpus && c < CPU_SETSIZE; c++) CPU_SET(c, &all);
  // The kernel intersects the mask with the cpuset (SLURM, containers); a failure leaves the
  // inherited mask, which is slower but computes the same.
  pthread_setaffinity_np(pthread_self(), sizeof all, &all);
}

// One batch: its thread and what the thread reports back, read after the join.
struct Background {
  std::string what;
  std::thread worker;
  std::vector<Napi::Reference<Napi::Value>> held;
  std::string error;
  bool inputFailed = false;  // error is an InputFailure's message
  double seconds = 0, readSeconds = 0;
  // A batch dropped without wait() (the job is ending on an error) still must not outlive its thread.
  ~Background() {
    if (worker.joinable()) worker.join();
  }
};

Napi::Value WaitJs(const Napi::CallbackInfo& info) {
  auto* batch = static_cast<Background*>(info.Data());
  if (batch->worker.joinable()) batch->worker.join();
  batch->held.clear();
  if (batch->inputFailed) ThrowWithCode(info.Env(), kCodeInput, batch->error);
  if (!batch->error.empty()) ThrowWithCode(info.Env(), kCodeKernel, batch->what + " failed: " + batch->error);
  Napi::Object times = Napi::Object::New(info.Env());
  times.Set("seconds", batch->seconds);
  times.Set("readSeconds", batch->readSeconds);
  return times;
}

}  // namespace

Napi::Function StartBackground(Napi::Env env, const char* what, const std::vector<Napi::Value>& held,
                               std::function<double()> work) {
  auto batch = std::make_unique<Background>();
  batch->what = what;
  for (const Napi::Value& v : held) batch->held.push_back(Napi::Persistent(v));
  Background* b = batch.get();
  b->worker = std::thread([b, work = std::move(work)] {
    if (widenWorkers.load()) WidenThisThread();
    const auto start = std::chrono::steady_clock::now();
    try {
      b->readSeconds = work();
    } catch (const InputFailure& e) {
      b->error = e.what();
      b->inputFailed = true;
    } catch (const std::exception& e) {
      b->error = e.what();
    }
    b->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  });
  Napi::Function wait = Napi::Function::New(env, WaitJs, "wait", b);
  wait.AddFinalizer([](Napi::Env, Background* done) { delete done; }, batch.release());
  return wait;
}

Napi::Value SetWorkerCpusJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string mode = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (mode != "node" && mode != "inherit") ThrowTypeError(env, "'node' or 'inherit'", "setWorkerCpus mode", info[0]);
  widenWorkers.store(mode == "node");
  return env.Undefined();
}

void RegisterBackground(Napi::Env env, Napi::Object exports) {
  exports.Set("setWorkerCpus", Napi::Function::New(env, SetWorkerCpusJs, "setWorkerCpus"));
}

}  // namespace h5stitch::kernels
