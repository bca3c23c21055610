#include "mpi_runtime.h"

#include <dlfcn.h>
#include <hdf5.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "errors.h"
#include "h5_types.h"
#include "hid.h"

namespace h5stitch {
unsigned g_hdf5_generation = 1;
}

namespace h5stitch::mpi {
namespace {

enum class Phase { kNotStarted, kRunning, kFinalized };
Phase g_phase = Phase::kNotStarted;

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

Napi::TypedArray ArgTypedArray(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsTypedArray()) ThrowTypeError(info.Env(), "a TypedArray", what, info[i]);
  return info[i].As<Napi::TypedArray>();
}

// MPI counts are int: a buffer of more elements cannot go in one call (it would wrap, silently).
int CountOf(Napi::Env env, const Napi::TypedArray& array, const char* what) {
  if (array.ElementLength() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    ThrowWithCode(env, kCodeRange, std::string(what) + " has " + std::to_string(array.ElementLength()) +
                                       " elements; one MPI call takes at most 2^31-1");
  }
  return static_cast<int>(array.ElementLength());
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
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (root < 0 || root >= size) {
    ThrowWithCode(info.Env(), kCodeRange,
                  "Expected a rank in [0, " + std::to_string(size) + ") for root but received " + std::to_string(root));
  }
  return root;
}

Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (g_phase == Phase::kFinalized) ThrowWithCode(env, kCodeMpiState, "MPI was already finalized; it cannot be initialised again");
  std::string requested = info[0].IsUndefined() ? "single" : "";
  if (requested.empty()) {
    if (!info[0].IsString()) ThrowTypeError(env, "one of 'single' | 'funneled' | 'serialized' | 'multiple'", "threadLevel", info[0]);
    requested = info[0].As<Napi::String>().Utf8Value();
  }
  int level;
  if (requested == "single") level = MPI_THREAD_SINGLE;
  else if (requested == "funneled") level = MPI_THREAD_FUNNELED;
  else if (requested == "serialized") level = MPI_THREAD_SERIALIZED;
  else if (requested == "multiple") level = MPI_THREAD_MULTIPLE;
  else ThrowTypeError(env, "one of 'single' | 'funneled' | 'serialized' | 'multiple'", "threadLevel", info[0]);

  int provided = MPI_THREAD_SINGLE;
  int already = 0;
  MPI_Initialized(&already);
  if (!already) {
    PromoteLibmpiToGlobal();
    Check(env, MPI_Init_thread(nullptr, nullptr, level, &provided), "MPI_Init_thread");
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
  result.Set("requested", requested);
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
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return Napi::Number::New(info.Env(), rank);
}

Napi::Value Size(const Napi::CallbackInfo& info) {
  RequireReady(info.Env(), "size()");
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return Napi::Number::New(info.Env(), size);
}

// Ranks on this node (sharing memory with this one); collective.
Napi::Value LocalSize(const Napi::CallbackInfo& info) {
  RequireReady(info.Env(), "localSize()");
  MPI_Comm node = MPI_COMM_NULL;
  Check(info.Env(), MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node), "MPI_Comm_split_type");
  int size = 0;
  MPI_Comm_size(node, &size);
  MPI_Comm_free(&node);
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
  Napi::TypedArray array = ArgTypedArray(info, 0, "bcast buffer");
  int root = RootArg(info, 1);
  Check(env, MPI_Bcast(DataOf(array), CountOf(env, array, "bcast buffer"), DatatypeOf(env, array, "bcast buffer"), root,
                       MPI_COMM_WORLD),
        "MPI_Bcast");
  return array;
}

// allreduce(array, op) -> new array of the same type and length.
Napi::Value Allreduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireReady(env, "allreduce()");
  Napi::TypedArray array = ArgTypedArray(info, 0, "allreduce buffer");
  std::string name = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  MPI_Op op;
  if (name == "sum") op = MPI_SUM;
  else if (name == "max") op = MPI_MAX;
  else if (name == "min") op = MPI_MIN;
  else if (name == "lor") op = MPI_LOR;
  else if (name == "land") op = MPI_LAND;
  else ThrowTypeError(env, "one of 'sum' | 'max' | 'min' | 'lor' | 'land'", "allreduce op", info[1]);
  Napi::TypedArray result = NewLike(env, array, array.ElementLength());
  Check(env, MPI_Allreduce(DataOf(array), DataOf(result), CountOf(env, array, "allreduce buffer"),
                           DatatypeOf(env, array, "allreduce buffer"), op, MPI_COMM_WORLD),
        "MPI_Allreduce");
  return result;
}

// gather(array, root) -> concatenation (size * length) at root, null elsewhere.
Napi::Value Gather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireReady(env, "gather()");
  Napi::TypedArray array = ArgTypedArray(info, 0, "gather buffer");
  int root = RootArg(info, 1);
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Datatype type = DatatypeOf(env, array, "gather buffer");
  int count = CountOf(env, array, "gather buffer");
  if (rank == root) {
    Napi::TypedArray result = NewLike(env, array, array.ElementLength() * size);
    Check(env, MPI_Gather(DataOf(array), count, type, DataOf(result), count, type, root, MPI_COMM_WORLD), "MPI_Gather");
    return result;
  }
  Check(env, MPI_Gather(DataOf(array), count, type, nullptr, count, type, root, MPI_COMM_WORLD), "MPI_Gather");
  return env.Null();
}

Napi::Value Allgather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireReady(env, "allgather()");
  Napi::TypedArray array = ArgTypedArray(info, 0, "allgather buffer");
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Datatype type = DatatypeOf(env, array, "allgather buffer");
  int count = CountOf(env, array, "allgather buffer");
  Napi::TypedArray result = NewLike(env, array, array.ElementLength() * size);
  Check(env, MPI_Allgather(DataOf(array), count, type, DataOf(result), count, type, MPI_COMM_WORLD), "MPI_Allgather");
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
  // HDF5 files opened through MPI-IO must be closed before MPI goes away;
  // H5close closes whatever is still open. Older handles become stale.
  H5close();
  g_hdf5_generation++;
  g_phase = Phase::kFinalized;
  Check(env, MPI_Finalize(), "MPI_Finalize");
  return env.Undefined();
}

// rawWrite(path, totalBytes, hints) -> seconds: the reference for benchmarks. Every rank
// writes its contiguous share of a file of totalBytes with one collective MPI-IO
// write, then MPI_File_sync; the time is from a barrier before the open to one after the close.
Napi::Value RawWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireReady(env, "rawWrite()");
  if (!info[0].IsString()) ThrowTypeError(env, "a string", "path", info[0]);
  if (!info[1].IsNumber() || info[1].As<Napi::Number>().DoubleValue() < 0) ThrowTypeError(env, "a byte count >= 0", "totalBytes", info[1]);
  std::string path = info[0].As<Napi::String>().Utf8Value();
  auto total = static_cast<MPI_Offset>(info[1].As<Napi::Number>().DoubleValue());
  MPI_Info hints = InfoFromObject(env, info[2], "hints");
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Offset share = total / size, start = share * rank;
  if (rank == size - 1) share = total - start;
  std::vector<char> buffer(static_cast<size_t>(share), 1);  // touched now, not inside the timed region
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  MPI_File file;
  int rc = MPI_File_open(MPI_COMM_WORLD, path.c_str(), MPI_MODE_CREATE | MPI_MODE_WRONLY, hints, &file);
  if (hints != MPI_INFO_NULL) MPI_Info_free(&hints);
  Check(env, rc, "MPI_File_open");
  // Large shares go in pieces below 2 GiB (the int count limit).
  const MPI_Offset piece = 1 << 30;
  MPI_Offset pieces = (total / size + piece - 1) / piece + 1;
  for (MPI_Offset k = 0; k < pieces; k++) {
    MPI_Offset offset = k * piece;
    int count = static_cast<int>(offset < share ? std::min(piece, share - offset) : 0);
    rc = MPI_File_write_at_all(file, start + offset, buffer.data() + (count ? offset : 0), count, MPI_BYTE, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) break;
  }
  if (rc == MPI_SUCCESS) rc = MPI_File_sync(file);
  MPI_File_close(&file);
  Check(env, rc, "raw MPI-IO write");
  MPI_Barrier(MPI_COMM_WORLD);
  return Napi::Number::New(env, MPI_Wtime() - t0);
}

}  // namespace

bool Ready() { return g_phase == Phase::kRunning; }

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
  std::string name = value.IsString() ? value.As<Napi::String>().Utf8Value() : "";
  if (name == "world") return MPI_COMM_WORLD;
  if (name == "self") return MPI_COMM_SELF;
  ThrowTypeError(env, "'world' | 'self'", what, value);
}

MPI_Info InfoFromObject(Napi::Env env, const Napi::Value& value, const char* what) {
  if (value.IsUndefined() || value.IsNull()) return MPI_INFO_NULL;
  if (!value.IsObject() || value.IsArray()) ThrowTypeError(env, "an object of string hints", what, value);
  Napi::Object object = value.As<Napi::Object>();
  Napi::Array keys = object.GetPropertyNames();
  MPI_Info info;
  Check(env, MPI_Info_create(&info), "MPI_Info_create");
  for (uint32_t i = 0; i < keys.Length(); i++) {
    std::string key = keys.Get(i).ToString().Utf8Value();
    Napi::Value v = object.Get(key);
    if (!v.IsString()) {
      MPI_Info_free(&info);
      ThrowTypeError(env, "a string", std::string(what) + "." + key, v);
    }
    MPI_Info_set(info, key.c_str(), v.As<Napi::String>().Utf8Value().c_str());
  }
  return info;
}

Napi::Object InfoToObject(Napi::Env env, MPI_Info info) {
  Napi::Object result = Napi::Object::New(env);
  if (info == MPI_INFO_NULL) return result;
  int nkeys = 0;
  MPI_Info_get_nkeys(info, &nkeys);
  for (int i = 0; i < nkeys; i++) {
    char key[MPI_MAX_INFO_KEY + 1];
    MPI_Info_get_nthkey(info, i, key);
    int length = 0, flag = 0;
    MPI_Info_get_valuelen(info, key, &length, &flag);
    if (!flag) continue;
    std::vector<char> value(length + 1);
    MPI_Info_get(info, key, length, value.data(), &flag);
    result.Set(key, std::string(value.data(), length));
  }
  return result;
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
  mpi.Set("rawWrite", Napi::Function::New(env, RawWrite, "rawWrite"));
  exports.Set("mpi", mpi);
}

}  // namespace h5stitch::mpi
