#include "kernels/background.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include "common/errors.h"

namespace h5stitch::kernels {
namespace {

// Set by setWorkerCpus('node'): batch threads leave the launcher's binding (Open MPI binds a rank
// to one core by default) and may run on any CPU the process's cpuset allows. A thread inherits
// its creator's mask, so without this the blend would only take turns with the main thread.
std::atomic<bool> widenWorkers{false};

cpu_set_t AllCpus() {
  cpu_set_t all;
  CPU_ZERO(&all);
  const long cpus = sysconf(_SC_NPROCESSORS_CONF);
  for (long c = 0; c < cpus && c < CPU_SETSIZE; c++) CPU_SET(c, &all);
  return all;
}

// One batch: its thread and what the thread reports back, read after the join.
struct Background {
  std::string what;
  std::function<double()> work;
  pthread_t worker{};
  bool running = false;  // started and not joined yet
  std::shared_ptr<SharedTasks> tasks;  // shared with wait() (StartShared)
  std::vector<Napi::Reference<Napi::Value>> held;
  std::string error;
  bool inputFailed = false;  // error is an InputFailure's message
  double seconds = 0, readSeconds = 0;
  void Join() {
    if (running) pthread_join(worker, nullptr);
    running = false;
    // The batch's jobs (their covering lists, what they read) go now, not when V8 gets round to
    // finalizing wait(): it does not see this memory (a 90,000-tile stitch peaked 110 MiB higher).
    work = nullptr;
    if (tasks) CollectShared();
  }
  // The shared tasks' outcome, once both threads are done with them.
  void CollectShared() {
    try {
      std::tie(seconds, readSeconds) = tasks->Finish();
    } catch (const InputFailure& e) {
      error = e.what();
      inputFailed = true;
    } catch (const std::exception& e) {
      error = e.what();
    }
    tasks.reset();
  }
  // A batch dropped without wait() (the job is ending on an error) still must not outlive its thread.
  ~Background() { Join(); }
};

void* RunBatch(void* arg) {
  auto* b = static_cast<Background*>(arg);
  const auto start = std::chrono::steady_clock::now();
  try {
    b->readSeconds = b->work();
  } catch (const InputFailure& e) {
    b->error = e.what();
    b->inputFailed = true;
  } catch (const std::exception& e) {
    b->error = e.what();
  } catch (...) {
    b->error = "unknown error";  // nothing may unwind out of a thread
  }
  b->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return nullptr;
}

// Starts b's thread; returns pthread_create's error (0: started). Widened, the thread is created
// with the node's mask, so the scheduler places it on a free CPU from the start: one that widened
// itself once running started on the main thread's core and took turns with it first (one rank,
// 476 MiB to tmpfs: 0.52 s -> 0.40 s wall with the mask set at creation).
int StartThread(Background* b) {
  pthread_attr_t attr;
  if (int failed = pthread_attr_init(&attr)) return failed;
  struct Destroy {
    pthread_attr_t* attr;
    ~Destroy() { pthread_attr_destroy(attr); }
  } destroy{&attr};
  const bool widen = widenWorkers.load();
  if (widen) {
    const cpu_set_t all = AllCpus();
    pthread_attr_setaffinity_np(&attr, sizeof all, &all);
  }
  int failed = pthread_create(&b->worker, &attr, RunBatch, b);
  // The kernel intersects the mask with the cpuset (SLURM, containers); should it refuse it, the
  // inherited mask is slower but computes the same.
  if (failed == EINVAL && widen) failed = pthread_create(&b->worker, nullptr, RunBatch, b);
  b->running = failed == 0;
  return failed;
}

Napi::Value WaitJs(const Napi::CallbackInfo& info) {
  auto* batch = static_cast<Background*>(info.Data());
  if (batch->tasks && batch->running) batch->tasks->Take();
  batch->Join();
  // Freed now, capacity too: the batch itself goes only when its finalizer runs, which Node
  // defers to the event loop, so a synchronous stitch keeps every band's batch to its end (one
  // pipelined rank, 1,170 bands: the malloc heap grew 2.0 MiB with their emptied vectors, 1.4 without).
  std::vector<Napi::Reference<Napi::Value>>().swap(batch->held);
  if (batch->inputFailed) ThrowWithCode(info.Env(), kCodeInput, batch->error);
  if (!batch->error.empty()) ThrowWithCode(info.Env(), kCodeKernel, batch->what + " failed: " + batch->error);
  Napi::Object times = Napi::Object::New(info.Env());
  times.Set("seconds", batch->seconds);
  times.Set("readSeconds", batch->readSeconds);
  return times;
}

Napi::Function Start(Napi::Env env, const char* what, const std::vector<Napi::Value>& held, std::function<double()> work,
                     std::shared_ptr<SharedTasks> tasks) {
  auto batch = std::make_unique<Background>();
  batch->what = what;
  batch->work = std::move(work);
  batch->tasks = std::move(tasks);
  for (const Napi::Value& v : held) batch->held.push_back(Napi::Persistent(v));
  if (int failed = StartThread(batch.get())) {
    ThrowWithCode(env, kCodeKernel, std::string(what) + " failed: cannot start a thread: " + std::strerror(failed));
  }
  Background* b = batch.get();
  Napi::Function wait = Napi::Function::New(env, WaitJs, "wait", b);
  wait.AddFinalizer([](Napi::Env, Background* done) { delete done; }, batch.release());
  return wait;
}

}  // namespace

Napi::Function StartBackground(Napi::Env env, const char* what, const std::vector<Napi::Value>& held,
                               std::function<double()> work) {
  return Start(env, what, held, std::move(work), nullptr);
}

Napi::Function StartShared(Napi::Env env, const char* what, const std::vector<Napi::Value>& held,
                           std::shared_ptr<SharedTasks> tasks) {
  SharedTasks* shared = tasks.get();
  return Start(env, what, held, [shared] {
    shared->Take();
    return 0.0;
  }, std::move(tasks));
}

Napi::Value SetWorkerCpusJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string mode = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (mode != "node" && mode != "inherit") ThrowTypeError(env, "'node' or 'inherit'", "setWorkerCpus mode", info[0]);
  widenWorkers.store(mode == "node");
  return env.Undefined();
}

// The calling thread's CPUs before setCallerCpus('node'), per thread (each Node environment calls
// from its own).
thread_local std::optional<cpu_set_t> callerCpus;

// setCallerCpus('node' | 'saved'): 'node' saves the calling thread's CPU mask and lets it run on
// any CPU of the cpuset; 'saved' puts the saved mask back (nothing when none is saved). Returns
// whether the thread's mask changed. A mask the kernel refuses leaves the thread as it was.
Napi::Value SetCallerCpusJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string mode = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (mode != "node" && mode != "saved") ThrowTypeError(env, "'node' or 'saved'", "setCallerCpus mode", info[0]);
  const pthread_t self = pthread_self();
  if (mode == "saved") {
    if (!callerCpus) return Napi::Boolean::New(env, false);
    const bool restored = pthread_setaffinity_np(self, sizeof *callerCpus, &*callerCpus) == 0;
    callerCpus.reset();
    return Napi::Boolean::New(env, restored);
  }
  cpu_set_t before;
  if (callerCpus || pthread_getaffinity_np(self, sizeof before, &before) != 0) return Napi::Boolean::New(env, false);
  const cpu_set_t all = AllCpus();
  if (pthread_setaffinity_np(self, sizeof all, &all) != 0) return Napi::Boolean::New(env, false);
  callerCpus = before;
  return Napi::Boolean::New(env, true);
}

void RegisterBackground(Napi::Env env, Napi::Object exports) {
  exports.Set("setWorkerCpus", Napi::Function::New(env, SetWorkerCpusJs, "setWorkerCpus"));
  exports.Set("setCallerCpus", Napi::Function::New(env, SetCallerCpusJs, "setCallerCpus"));
}

}  // namespace h5stitch::kernels
