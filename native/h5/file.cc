#include "h5/file.h"

#include <hdf5.h>
#include <mpi.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "common/args.h"
#include "common/errors.h"
#include "h5/attributes.h"
#include "h5/dataset.h"
#include "h5/types.h"
#include "runtime/mpi_info.h"
#include "runtime/mpi_runtime.h"

namespace h5stitch {

void H5File::Register(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = DefineClass(
      env, "File",
      {
          InstanceMethod<&H5File::Close>("close"),
          InstanceMethod<&H5File::Flush>("flush"),
          InstanceMethod<&H5File::StartWriteback>("startWriteback"),
          InstanceMethod<&H5File::GetAtomicity>("getAtomicity"),
          InstanceMethod<&H5File::SetAtomicity>("setAtomicity"),
          InstanceMethod<&H5File::CreateDataset>("createDataset"),
          InstanceMethod<&H5File::OpenDataset>("openDataset"),
          InstanceMethod<&H5File::CreateGroup>("createGroup"),
          InstanceMethod<&H5File::Exists>("exists"),
          InstanceMethod<&H5File::ObjectType>("objectType"),
          InstanceMethod<&H5File::List>("list"),
          InstanceMethod<&H5File::SetAttr>("setAttr"),
          InstanceMethod<&H5File::GetAttr>("getAttr"),
          InstanceMethod<&H5File::AttrNames>("attrNames"),
          InstanceMethod<&H5File::MpioHints>("mpioHints"),
          InstanceAccessor<&H5File::GetPath>("path"),
          InstanceAccessor<&H5File::GetParallel>("parallel"),
          InstanceAccessor<&H5File::GetIsOpen>("isOpen"),
      });
  exports.Set("File", cls);
}

namespace {

// File access properties: the MPI-IO driver on a communicator with hints (parallel), alignment.
Hid FileAccessList(Napi::Env env, const Napi::Object& options, bool parallel) {
  Hid fapl = PropertyList(H5Pcreate(H5P_FILE_ACCESS));
  CheckHdf5(env, fapl.get(), "H5Pcreate(FILE_ACCESS)");
  if (parallel) {
    mpi::RequireReady(env, "opening a parallel HDF5 file");
    MPI_Comm comm = mpi::CommFromValue(env, options.Get("comm"), "comm");
    // HDF5 keeps its own copy of the hints.
    CheckHdf5(env, H5Pset_fapl_mpio(fapl.get(), comm, mpi::MpiInfo::FromObject(env, options.Get("hints"), "hints").get()),
              "H5Pset_fapl_mpio");
    if (BoolOption(env, options, "collectiveMetadata", true)) {
      // Metadata reads by one rank + broadcast, and collective metadata writes:
      // avoids a metadata storm of N ranks reading the same bytes.
      CheckHdf5(env, H5Pset_all_coll_metadata_ops(fapl.get(), true), "H5Pset_all_coll_metadata_ops");
      CheckHdf5(env, H5Pset_coll_metadata_write(fapl.get(), true), "H5Pset_coll_metadata_write");
    }
  }
  Napi::Value alignment = options.Get("alignment");
  if (!alignment.IsUndefined()) {
    std::vector<hsize_t> pair = DimsOption<hsize_t>(env, alignment, "alignment", false);
    if (pair.size() != 2) ThrowTypeError(env, "[threshold, alignment]", "alignment", alignment);
    CheckHdf5(env, H5Pset_alignment(fapl.get(), pair[0], pair[1]), "H5Pset_alignment");
  }
  return fapl;
}

}  // namespace

// new File(path, { mode: 'create' | 'r' | 'r+', parallel, comm, hints, alignment, collectiveMetadata, overwrite })
H5File::H5File(const Napi::CallbackInfo& info) : Napi::ObjectWrap<H5File>(info) {
  Napi::Env env = info.Env();
  path_ = StringArg(info, 0, "path");
  Napi::Object options = OptionsArg(info, 1, "options");
  enum Mode : size_t { kCreate, kRead, kReadWrite };  // in the order OneOf lists them
  const size_t mode = options.Get("mode").IsUndefined()
                          ? size_t{kRead}
                          : OneOf(env, options.Get("mode"), {"create", "r", "r+"}, "'create' | 'r' | 'r+'", "mode");
  parallel_ = BoolOption(env, options, "parallel", false);
  bool overwrite = BoolOption(env, options, "overwrite", false);
  Hid fapl = FileAccessList(env, options, parallel_);
  if (mode == kCreate) {
    file_ = Hid(H5Fcreate(path_.c_str(), overwrite ? H5F_ACC_TRUNC : H5F_ACC_EXCL, H5P_DEFAULT, fapl.get()), H5Fclose);
    CheckHdf5(env, file_.get(), "H5Fcreate(" + path_ + ")");
  } else {
    file_ = Hid(H5Fopen(path_.c_str(), mode == kRead ? H5F_ACC_RDONLY : H5F_ACC_RDWR, fapl.get()), H5Fclose);
    CheckHdf5(env, file_.get(), "H5Fopen(" + path_ + ")");
  }
}

H5File::~H5File() {
  // A parallel file's close is collective: closing it from the garbage collector
  // on some ranks only would deadlock. It is closed at finalize (H5close) instead.
  DetachDatasets(!parallel_);
  if (parallel_) file_.Abandon();
  else file_.Close();
}

void H5File::RequireOpen(Napi::Env env, const char* what) const {
  if (!file_.valid()) ThrowWithCode(env, kCodeClosed, "HDF5 file " + path_ + " is closed; cannot " + what);
}

void H5File::Release(H5Dataset* dataset) {
  datasets_.erase(std::remove(datasets_.begin(), datasets_.end(), dataset), datasets_.end());
}

void H5File::DetachDatasets(bool close) {
  std::vector<H5Dataset*> open = datasets_;
  for (H5Dataset* d : open) d->Detach(close);
  datasets_.clear();
}

void Fd::Reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Napi::Value H5File::Close(const Napi::CallbackInfo& info) {
  if (!file_.valid()) return info.Env().Undefined();  // closing twice is harmless
  writeback_.Reset();
  DetachDatasets(true);
  CheckHdf5(info.Env(), file_.Close(), "H5Fclose(" + path_ + ")");
  return info.Env().Undefined();
}

Napi::Value H5File::Flush(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env(), "flush");
  // Collective for parallel files; the MPI-IO driver ends it with MPI_File_sync.
  CheckHdf5(info.Env(), H5Fflush(file_.get(), H5F_SCOPE_GLOBAL), "H5Fflush(" + path_ + ")");
  return info.Env().Undefined();
}

// startWriteback(offset?, length?): asks the OS to start writing the file's dirty pages inside
// [offset, offset + length) (default: the whole file) now, without waiting (Linux
// sync_file_range), so the disk works while the caller computes and the final sync has little
// left. Only whole pages inside the range: a page shared with a neighbour's range is left to it
// (or to the sync). A hint: returns false where it is not available. Not a substitute for flush().
Napi::Value H5File::StartWriteback(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "start writeback");
  int64_t from = ByteCountArg(info, 0, "offset");
  const int64_t length = ByteCountArg(info, 1, "length");
  int64_t to = length > 0 ? from + length : 0;  // 0: to the end of the file
  bool started = false;
#ifdef __linux__
  const int64_t page = sysconf(_SC_PAGESIZE);
  from = (from + page - 1) / page * page;
  if (to > 0) to = to / page * page;
  if (to > 0 && to <= from) return Napi::Boolean::New(env, true);  // no whole page inside
  if (writeback_.get() < 0) writeback_.Reset(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  started = writeback_.get() >= 0 && sync_file_range(writeback_.get(), from, to > 0 ? to - from : 0, SYNC_FILE_RANGE_WRITE) == 0;
#endif
  return Napi::Boolean::New(env, started);
}

Napi::Value H5File::GetAtomicity(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env(), "get atomicity");
  if (!parallel_) return Napi::Boolean::New(info.Env(), false);
  hbool_t flag = false;
  CheckHdf5(info.Env(), H5Fget_mpi_atomicity(file_.get(), &flag), "H5Fget_mpi_atomicity");
  return Napi::Boolean::New(info.Env(), flag);
}

Napi::Value H5File::SetAtomicity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "set atomicity");
  if (!info[0].IsBoolean()) ThrowTypeError(env, "a boolean", "atomicity", info[0]);
  if (!parallel_) ThrowWithCode(env, kCodeHdf5, "atomicity applies only to files opened with the MPI-IO driver");
  CheckHdf5(env, H5Fset_mpi_atomicity(file_.get(), info[0].As<Napi::Boolean>().Value()), "H5Fset_mpi_atomicity");
  return env.Undefined();
}

namespace {

// Link creation properties that create missing intermediate groups ("a/b/c" makes a and a/b).
Hid IntermediateGroupsList() {
  Hid lcpl = PropertyList(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  return lcpl;
}

void SetChunkAndGzip(Napi::Env env, hid_t dcpl, const Napi::Object& options, size_t rank) {
  Napi::Value chunk_value = options.Get("chunk");
  const bool chunked = !chunk_value.IsUndefined() && !chunk_value.IsNull();
  if (chunked) {
    std::vector<hsize_t> chunk = DimsOption<hsize_t>(env, chunk_value, "chunk", false);
    if (chunk.size() != rank) ThrowTypeError(env, "a chunk shape with one entry per dimension", "chunk", chunk_value);
    CheckHdf5(env, H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()), "H5Pset_chunk");
  }
  Napi::Value gzip = options.Get("gzip");
  if (!gzip.IsUndefined() && !gzip.IsNull()) {
    double level = gzip.IsNumber() ? gzip.As<Napi::Number>().DoubleValue() : -1;
    if (level < 0 || level > 9 || level != static_cast<int>(level)) ThrowTypeError(env, "an integer level 0-9", "gzip", gzip);
    if (!chunked) ThrowTypeError(env, "a chunk shape (gzip needs chunked storage)", "chunk", chunk_value);
    CheckHdf5(env, H5Pset_deflate(dcpl, static_cast<unsigned>(level)), "H5Pset_deflate");
  }
}

void SetFill(Napi::Env env, hid_t dcpl, const Napi::Object& options) {
  Napi::Value fill_value = options.Get("fillValue");
  if (!fill_value.IsUndefined()) {
    if (!fill_value.IsNumber()) ThrowTypeError(env, "a number", "fillValue", fill_value);
    double value = fill_value.As<Napi::Number>().DoubleValue();
    CheckHdf5(env, H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, &value), "H5Pset_fill_value");
  }
  Napi::Value fill_time = options.Get("fillTime");
  if (!fill_time.IsUndefined()) {
    static const H5D_fill_time_t kWhen[] = {H5D_FILL_TIME_ALLOC, H5D_FILL_TIME_NEVER, H5D_FILL_TIME_IFSET};
    const size_t when = OneOf(env, fill_time, {"alloc", "never", "ifset"}, "'alloc' | 'never' | 'ifset'", "fillTime");
    CheckHdf5(env, H5Pset_fill_time(dcpl, kWhen[when]), "H5Pset_fill_time");
  }
}

// Dataset creation properties from createDataset() options: chunk, gzip, fillValue, fillTime.
Hid DatasetCreationList(Napi::Env env, const Napi::Object& options, size_t rank) {
  Hid dcpl = PropertyList(H5Pcreate(H5P_DATASET_CREATE));
  // Allocate all storage at creation, so the fill value (one collective write)
  // is what unwritten pixels hold; parallel HDF5 requires early allocation anyway.
  CheckHdf5(env, H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY), "H5Pset_alloc_time");
  SetChunkAndGzip(env, dcpl.get(), options, rank);
  SetFill(env, dcpl.get(), options);
  return dcpl;
}

}  // namespace

// createDataset(name, { shape, dtype, chunk?, gzip?, fillValue?, fillTime? })
Napi::Value H5File::CreateDataset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "create a dataset");
  std::string name = StringArg(info, 0, "dataset name");
  if (!info[1].IsObject()) ThrowTypeError(env, "an options object", "createDataset options", info[1]);
  Napi::Object options = info[1].As<Napi::Object>();
  std::vector<hsize_t> shape = DimsOption<hsize_t>(env, options.Get("shape"), "shape", true);
  if (shape.empty() || shape.size() > 8) ThrowTypeError(env, "a shape of 1 to 8 dimensions", "shape", options.Get("shape"));
  const Dtype& dtype = DtypeByName(env, options.Get("dtype"), "dtype");
  Hid dcpl = DatasetCreationList(env, options, shape.size());
  Hid space = Dataspace(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr));
  CheckHdf5(env, space.get(), "H5Screate_simple");
  Hid dataset = DatasetId(
      H5Dcreate2(file_.get(), name.c_str(), dtype.native(), space.get(), IntermediateGroupsList().get(), dcpl.get(), H5P_DEFAULT));
  CheckHdf5(env, dataset.get(), "H5Dcreate2(" + name + ")");
  return H5Dataset::Wrap(env, Value(), this, std::move(dataset), name);
}

Napi::Value H5File::OpenDataset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "open a dataset");
  std::string name = StringArg(info, 0, "dataset name");
  Hid dataset = DatasetId(H5Dopen2(file_.get(), name.c_str(), H5P_DEFAULT));
  CheckHdf5(env, dataset.get(), "H5Dopen2(" + name + ")");
  return H5Dataset::Wrap(env, Value(), this, std::move(dataset), name);
}

Napi::Value H5File::CreateGroup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "create a group");
  std::string name = StringArg(info, 0, "group name");
  Hid group = Group(H5Gcreate2(file_.get(), name.c_str(), IntermediateGroupsList().get(), H5P_DEFAULT, H5P_DEFAULT));
  CheckHdf5(env, group.get(), "H5Gcreate2(" + name + ")");
  return env.Undefined();
}

// exists(path): true when every link along the path exists and resolves to an object.
Napi::Value H5File::Exists(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "look up a path");
  std::string path = StringArg(info, 0, "path");
  if (path.empty() || path == "/") return Napi::Boolean::New(env, true);
  size_t pos = path[0] == '/' ? 1 : 0;
  while (true) {
    size_t next = path.find('/', pos);
    std::string prefix = path.substr(0, next);
    if (!prefix.empty() && prefix != "/") {
      htri_t link = H5Lexists(file_.get(), prefix.c_str(), H5P_DEFAULT);
      if (link <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return Napi::Boolean::New(env, false);
      }
      htri_t object = H5Oexists_by_name(file_.get(), prefix.c_str(), H5P_DEFAULT);
      if (object <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return Napi::Boolean::New(env, false);
      }
    }
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return Napi::Boolean::New(env, true);
}

Hid H5File::OpenObject(Napi::Env env, const Napi::Value& path, const char* what) {
  if (!path.IsString()) ThrowTypeError(env, "an object path string", what, path);
  std::string name = path.As<Napi::String>().Utf8Value();
  Hid object = Object(H5Oopen(file_.get(), name.empty() ? "/" : name.c_str(), H5P_DEFAULT));
  CheckHdf5(env, object.get(), "H5Oopen(" + name + ")");
  return object;
}

// objectType(path) -> 'group' | 'dataset' | 'datatype' | null (missing)
Napi::Value H5File::ObjectType(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "look up an object");
  std::string name = StringArg(info, 0, "path");
  htri_t exists = H5Oexists_by_name(file_.get(), name.c_str(), H5P_DEFAULT);
  if (exists <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return env.Null();
  }
  Hid object = OpenObject(env, info[0], "path");
  switch (H5Iget_type(object.get())) {
    case H5I_GROUP: return Napi::String::New(env, "group");
    case H5I_DATASET: return Napi::String::New(env, "dataset");
    case H5I_DATATYPE: return Napi::String::New(env, "datatype");
    default: return Napi::String::New(env, "other");
  }
}

namespace {
herr_t CollectLink(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}
}  // namespace

// list(groupPath) -> member names in name order
Napi::Value H5File::List(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "list a group");
  std::string name = info[0].IsUndefined() ? "/" : StringArg(info, 0, "group path");
  Hid group = Group(H5Gopen2(file_.get(), name.c_str(), H5P_DEFAULT));
  CheckHdf5(env, group.get(), "H5Gopen2(" + name + ")");
  std::vector<std::string> names;
  hsize_t index = 0;
  CheckHdf5(env, H5Literate(group.get(), H5_INDEX_NAME, H5_ITER_INC, &index, CollectLink, &names), "H5Literate");
  Napi::Array result = Napi::Array::New(env, names.size());
  for (size_t i = 0; i < names.size(); i++) result.Set(static_cast<uint32_t>(i), names[i]);
  return result;
}

Napi::Value H5File::SetAttr(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env(), "write an attribute");
  Hid object = OpenObject(info.Env(), info[0], "object path");
  WriteAttribute(info.Env(), object.get(), StringArg(info, 1, "attribute name"), info[2]);
  return info.Env().Undefined();
}

Napi::Value H5File::GetAttr(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env(), "read an attribute");
  Hid object = OpenObject(info.Env(), info[0], "object path");
  return ReadAttribute(info.Env(), object.get(), StringArg(info, 1, "attribute name"));
}

Napi::Value H5File::AttrNames(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env(), "list attributes");
  Hid object = OpenObject(info.Env(), info[0], "object path");
  return AttributeNames(info.Env(), object.get());
}

// mpioHints() -> the hints the MPI-IO layer reports for the open file (MPI_File_get_info).
Napi::Value H5File::MpioHints(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "read MPI-IO hints");
  if (!parallel_) return Napi::Object::New(env);
  void* handle = nullptr;
  CheckHdf5(env, H5Fget_vfd_handle(file_.get(), H5P_DEFAULT, &handle), "H5Fget_vfd_handle");
  mpi::MpiInfo hints;
  mpi::Check(env, MPI_File_get_info(*static_cast<MPI_File*>(handle), hints.Out()), "MPI_File_get_info");
  return hints.ToObject(env);
}

Napi::Value H5File::GetPath(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), path_); }
Napi::Value H5File::GetParallel(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), parallel_); }
Napi::Value H5File::GetIsOpen(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), file_.valid()); }

}  // namespace h5stitch
