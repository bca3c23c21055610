#include "runtime/mpi_runtime.h"

#include <dlfcn.h>

#include <limits>
#include <string>

#include "common/args.h"
#include "common/errors.h"
#include "common/hid.h"
#include "runtime/mpi_handle.h"

namespace h5stitch::mpi {
namespace {

// MPI can be initialised and finalized once per process, whatever the environments.
enum class Phase { kNotStarted, kRunning, kFinalized };
Phase g_phase = Phase::kNotStarted;

constexpr const char* kThreadLevels = "one of 'single' | 'funneled' | 'serialized' | 'multiple'";

// Python extension modules and Node addons are loaded RTLD_LOCAL; Open MPI
// dlopens its own plugins, which need libmpi's symbols globally visible.
// Re-open the already loaded libmpi with RTLD_GLOBAL (as mpi4py does).
void PromoteLibmpiToGlobal() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&MPI_Init_thread), &info) && info.dli_fname) {
    dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
  }
}

const char* ThreadLevelName(int level) {
  switch (level) {
    case MPI_THREAD_SINGLE: return "single";
    case MPI_THREAD_FUNNELED: return "funneled";
    case MPI_THREAD_SERIALIZED: return "serialized";
    case MPI_THREAD_MULTIPLE: return "multiple";
    default: return "unknown";
  }
}

int WorldRank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int WorldSize() {
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

MPI_Datatype DatatypeOf(Napi::Env env, const Napi::TypedArray& array, const char* what) {
  switch (array.TypedArrayType()) {
    case napi_int8_array: return MPI_INT8_T;
    case napi_uint8_array: return MPI_UINT8_T;
    case napi_int16_array: return MPI_INT16_T;
    case napi_uint16_array: return MPI_UINT16_T;
    case napi_int32_array: return MPI_INT32_T;
    case napi_uint32_array: return MPI_UINT32_T;
    case napi_float32_array: return MPI_FLOAT;
    case napi_float64_array: return MPI_DOUBLE;
    case napi_bigint64_array: return MPI_INT64_T;
    case napi_biguint64_array: return MPI_UINT64_T;
    default: ThrowTypeError(env, "a numeric TypedArray", what, array);
  }
}

// A collective's send buffer (argument 0): the typed array as MPI sees it.
struct SendBuffer {
  Napi::TypedArray array;
  void* data;
  int count;
  MPI_Datatype type;
};

// MPI counts are int: a buffer of more elements cannot go in one call (it would wrap, silently).
int CountOf(Napi::Env env, const Napi::TypedArray& array, const char* what) {
  if (array.ElementLength() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    ThrowWithCode(env, kCodeRange, std::string(what) + " has " + std::to_string(array.ElementLength()) +
                                       " elements; one MPI call takes at most 2^31-1");
  }
  return static_cast<int>(array.ElementLength());
}

SendBuffer SendArg(const Napi::CallbackInfo& info, const char* what) {
  Napi::TypedArray array = ArgTypedArray(info, 0, what);
  return {array, DataOf(array), CountOf(info.Env(), array, what), DatatypeOf(info.Env(), array, what)};
}

// A new typed array of the same kind as `like`, `length` elements long.
Napi::TypedArray NewLike(Napi::Env env, const Napi::TypedArray& like, size_t length) {
  size_t element = like.ElementSize();
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, length * element);
  napi_value result;
  napi_status status = napi_create_typedarray(env, like.TypedArrayType(), length, buffer, 0, &result);
  NAPI_THROW_IF_FAILED(env, status, Napi::TypedArray());
  return Napi::TypedArray(env, result);
}

int RootArg(const Napi::CallbackInfo& info, size_t i) {
  if (info[i].IsUndefined()) return 0;
  if (!info[i].IsNumber()) ThrowTypeError(info.Env(), "a rank number", "root", info[i]);
  int root = info[i].As<Napi::Number>().Int32Value();
  int size = WorldSize();
  if (root < 0 || root >= size) {
    ThrowWithCode(info.Env(), kCodeRange,
                  "Expected a rank in [0, " + std::to_string(size) + ") for root but received " + std::to_string(root));
  }
  return root;
}

// init(threadLevel = 'single') -> { requested, provided }
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (g_phase == Phase::kFinalized) ThrowWithCode(env, kCodeMpiState, "MPI was already finalized; it cannot be initialised again");
  static const int kLevels[] = {MPI_THREAD_SINGLE, MPI_THREAD_FUNNELED, MPI_THREAD_SERIALIZED, MPI_THREAD_MULTIPLE};
  const size_t requested =
      info[0].IsUndefined() ? 0 : OneOf(env, info[0], {"single", "funneled", "serialized", "multiple"}, kThreadLevels, "threadLevel");

  int provided = MPI_THREAD_SINGLE;
  int already = 0;
  MPI_Initialized(&already);
  if (!already) {
    PromoteLibmpiToGlobal();
    Check(env, MPI_Init_thread(nullptr, nullptr, kLevels[requested], &provided), "MPI_Init_thread");
  } else {
    MPI_Query_thread(&provided);
  }
  // Errors come back as codes we turn into JS errors instead of killing the job
  // from inside MPI; the TypeScript lifecycle decides when to abort.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
  MPI_File_set_errhandler(MPI_FILE_NULL, MPI_ERRORS_RETURN);
  g_phase = Phase::kRunning;

  Napi::Object result = Napi::Object::New(env);
  result.Set("requested", ThreadLevelName(kLevels[requested]));
  result.Set("provided", ThreadLevelName(provided));
  return result;
}

Napi::Value State(const Napi::CallbackInfo& info) {
  switch (g_phase) {
    case Phase::kNotStarted: return Napi::String::New(info.Env(), "uninitialized");
    case Phase::kRunning: return Napi::String::New(info.Env(), "running");
    default: return Napi::String::New(info.Env(), "finalized");
  }
}

Napi::Value Rank(const Napi::CallbackInfo& info) {
  RequireReady(info.Env(), "rank()");
  return Napi::Number::New(info.Env(), WorldRank());
}

Napi::Value Size(const Napi::CallbackInfo& info) {
  RequireReady(info.Env(), "size()");
  return Napi::Number::New(info.Env(), WorldSize());
}

// Ranks on this node (sharing memory with this one); collective.
Napi::Value LocalSize(const Napi::CallbackInfo& info) {
  RequireReady(info.Env(), "localSize()");
  MpiHandle<MPI_Comm> node(MPI_COMM_NULL, MPI_Comm_free);
  Check(info.Env(), MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, node.Out()),
        "MPI_Comm_split_type");
  int size = 0;
  MPI_Comm_size(node.get(), &size);
  return Napi::Number::New(info.Env(), size);
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  RequireReady(info.Env(), "barrier()");
  Check(info.Env(), MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
  return info.Env().Undefined();
}

Napi::Value Wtime(const Napi::CallbackInfo& info) {
  RequireReady(info.Env(), "wtime()");
  return Napi::Number::New(info.Env(), MPI_Wtime());
}

// bcast(array, root): in place; every rank passes an array of the same length.
Napi::Value Bcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireReady(env, "bcast()");
  SendBuffer send = SendArg(info, "bcast buffer");
  Check(env, MPI_Bcast(send.data, send.count, send.type, RootArg(info, 1), MPI_COMM_WORLD), "MPI_Bcast");
  return send.array;
}

// allreduce(array, op) -> new array of the same type and length.
Napi::Value Allreduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireReady(env, "allreduce()");
  SendBuffer send = SendArg(info, "allreduce buffer");
  static const MPI_Op kOps[] = {MPI_SUM, MPI_MAX, MPI_MIN, MPI_LOR, MPI_LAND};
  const MPI_Op op = kOps[OneOf(env, info[1], {"sum", "max", "min", "lor", "land"},
                               "one of 'sum' | 'max' | 'min' | 'lor' | 'land'", "allreduce op")];
  Napi::TypedArray result = NewLike(env, send.array, send.count);
  Check(env, MPI_Allreduce(send.data, DataOf(result), send.count, send.type, op, MPI_COMM_WORLD), "MPI_Allreduce");
  return result;
}

// gather(array, root) -> concatenation (size * length) at root, null elsewhere.
Napi::Value Gather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireReady(env, "gather()");
  SendBuffer send = SendArg(info, "gather buffer");
  const int root = RootArg(info, 1);
  const bool here = WorldRank() == root;
  Napi::Value result = here ? Napi::Value(NewLike(env, send.array, static_cast<size_t>(send.count) * WorldSize())) : env.Null();
  void* into = here ? DataOf(result.As<Napi::TypedArray>()) : nullptr;
  Check(env, MPI_Gather(send.data, send.count, send.type, into, send.count, send.type, root, MPI_COMM_WORLD), "MPI_Gather");
  return result;
}

// allgather(array) -> concatenation (size * length) on every rank.
Napi::Value Allgather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireReady(env, "allgather()");
  SendBuffer send = SendArg(info, "allgather buffer");
  Napi::TypedArray result = NewLike(env, send.array, static_cast<size_t>(send.count) * WorldSize());
  Check(env, MPI_Allgather(send.data, send.count, send.type, DataOf(result), send.count, send.type, MPI_COMM_WORLD),
        "MPI_Allgather");
  return result;
}

Napi::Value ProcessorName(const Napi::CallbackInfo& info) {
  RequireReady(info.Env(), "processorName()");
  char name[MPI_MAX_PROCESSOR_NAME];
  int length = 0;
  MPI_Get_processor_name(name, &length);
  return Napi::String::New(info.Env(), name, length);
}

// Callable before init and after finalize (MPI allows both).
Napi::Value LibraryVersion(const Napi::CallbackInfo& info) {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(text, &length);
  while (length > 0 && (text[length - 1] == '\n' || text[length - 1] == '\0')) length--;
  int version = 0, subversion = 0;
  MPI_Get_version(&version, &subversion);
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("library", Napi::String::New(info.Env(), text, length));
  result.Set("standard", std::to_string(version) + "." + std::to_string(subversion));
  return result;
}

Napi::Value Abort(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireReady(env, "abort()");
  int code = info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 1;
  MPI_Abort(MPI_COMM_WORLD, code);
  return env.Undefined();  // not reached
}

Napi::Value Finalize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireReady(env, "finalize()");
  // HDF5 files opened through MPI-IO must be closed before MPI goes away; this closes whatever
  // is still open.
  Hid::CloseAll();
  g_phase = Phase::kFinalized;
  Check(env, MPI_Finalize(), "MPI_Finalize");
  return env.Undefined();
}

}  // namespace

void RequireReady(Napi::Env env, const char* what) {
  if (g_phase == Phase::kNotStarted) {
    ThrowWithCode(env, kCodeMpiState, std::string("MPI is not initialised; call init() before ") + what);
  }
  if (g_phase == Phase::kFinalized) {
    ThrowWithCode(env, kCodeMpiState, std::string("MPI was finalized; ") + what + " is no longer possible");
  }
}

void Check(Napi::Env env, int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  ThrowWithCode(env, kCodeMpi, std::string(what) + " failed: " + std::string(text, length));
}

MPI_Comm CommFromValue(Napi::Env env, const Napi::Value& value, const char* what) {
  if (value.IsUndefined()) return MPI_COMM_WORLD;
  return OneOf(env, value, {"world", "self"}, "'world' | 'self'", what) == 0 ? MPI_COMM_WORLD : MPI_COMM_SELF;
}

void Register(Napi::Env env, Napi::Object exports) {
  Napi::Object mpi = Napi::Object::New(env);
  mpi.Set("init", Napi::Function::New(env, Init, "init"));
  mpi.Set("state", Napi::Function::New(env, State, "state"));
  mpi.Set("rank", Napi::Function::New(env, Rank, "rank"));
  mpi.Set("size", Napi::Function::New(env, Size, "size"));
  mpi.Set("localSize", Napi::Function::New(env, LocalSize, "localSize"));
  mpi.Set("barrier", Napi::Function::New(env, Barrier, "barrier"));
  mpi.Set("wtime", Napi::Function::New(env, Wtime, "wtime"));
  mpi.Set("bcast", Napi::Function::New(env, Bcast, "bcast"));
  mpi.Set("allreduce", Napi::Function::New(env, Allreduce, "allreduce"));
  mpi.Set("gather", Napi::Function::New(env, Gather, "gather"));
  mpi.Set("allgather", Napi::Function::New(env, Allgather, "allgather"));
  mpi.Set("processorName", Napi::Function::New(env, ProcessorName, "processorName"));
  mpi.Set("libraryVersion", Napi::Function::New(env, LibraryVersion, "libraryVersion"));
  mpi.Set("abort", Napi::Function::New(env, Abort, "abort"));
  mpi.Set("finalize", Napi::Function::New(env, Finalize, "finalize"));
  exports.Set("mpi", mpi);
}

}  // namespace h5stitch::mpi
