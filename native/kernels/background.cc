#include "kernels/background.h"

#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <thread>

#include "common/errors.h"

namespace h5stitch::kernels {
namespace {

// One batch: its thread and what the thread reports back, read after the join.
struct Background {
  std::string what;
  std::thread worker;
  std::vector<Napi::Reference<Napi::Value>> held;
  std::string error;
  double seconds = 0;
  // A batch dropped without wait() (the job is ending on an error) still must not outlive its thread.
  ~Background() {
    if (worker.joinable()) worker.join();
  }
};

Napi::Value WaitJs(const Napi::CallbackInfo& info) {
  auto* batch = static_cast<Background*>(info.Data());
  if (batch->worker.joinable()) batch->worker.join();
  batch->held.clear();
  if (!batch->error.empty()) ThrowWithCode(info.Env(), kCodeKernel, batch->what + " failed: " + batch->error);
  return Napi::Number::New(info.Env(), batch->seconds);
}

}  // namespace

Napi::Function StartBackground(Napi::Env env, const char* what, const std::vector<Napi::Value>& held,
                               std::function<void()> work) {
  auto batch = std::make_unique<Background>();
  batch->what = what;
  for (const Napi::Value& v : held) batch->held.push_back(Napi::Persistent(v));
  Background* b = batch.get();
  b->worker = std::thread([b, work = std::move(work)] {
    const auto start = std::chrono::steady_clock::now();
    try {
      work();
    } catch (const std::exception& e) {
      b->error = e.what();
    }
    b->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  });
  Napi::Function wait = Napi::Function::New(env, WaitJs, "wait", b);
  wait.AddFinalizer([](Napi::Env, Background* done) { delete done; }, batch.release());
  return wait;
}

}  // namespace h5stitch::kernels
