#include "h5/dataset.h"

#include <hdf5.h>

#include <algorithm>

#include "common/addon_state.h"
#include "common/args.h"
#include "common/errors.h"
#include "h5/attributes.h"
#include "h5/file.h"

namespace h5stitch {
namespace {

// A hyperslab start or count: one non-negative integer per dimension.
std::vector<hsize_t> IndexArray(Napi::Env env, const Napi::Value& value, const char* what, size_t rank) {
  if (!value.IsArray() || value.As<Napi::Array>().Length() != rank) {
    ThrowTypeError(env, "an array of " + std::to_string(rank) + " non-negative integers", what, value);
  }
  return DimsOption<hsize_t>(env, value, what, true);
}

std::string DimsText(const std::vector<hsize_t>& dims) {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); i++) text += (i ? ", " : "") + std::to_string(dims[i]);
  return text + "]";
}

const char* ActualIoModeName(H5D_mpio_actual_io_mode_t mode) {
  switch (mode) {
    case H5D_MPIO_NO_COLLECTIVE: return "independent";
    case H5D_MPIO_CHUNK_INDEPENDENT: return "chunk-independent";
    case H5D_MPIO_CHUNK_COLLECTIVE: return "chunk-collective";
    case H5D_MPIO_CHUNK_MIXED: return "chunk-mixed";
    case H5D_MPIO_CONTIGUOUS_COLLECTIVE: return "contiguous-collective";
    default: return "unknown";
  }
}

}  // namespace

void H5Dataset::Register(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = DefineClass(env, "Dataset",
                                   {
                                       InstanceMethod<&H5Dataset::Read>("read"),
                                       InstanceMethod<&H5Dataset::Write>("write"),
                                       InstanceMethod<&H5Dataset::SetAttr>("setAttr"),
                                       InstanceMethod<&H5Dataset::GetAttr>("getAttr"),
                                       InstanceMethod<&H5Dataset::AttrNames>("attrNames"),
                                       InstanceMethod<&H5Dataset::Close>("close"),
                                       InstanceAccessor<&H5Dataset::GetShape>("shape"),
                                       InstanceAccessor<&H5Dataset::GetDtype>("dtype"),
                                       InstanceAccessor<&H5Dataset::GetChunk>("chunk"),
                                       InstanceAccessor<&H5Dataset::GetName>("name"),
                                       InstanceAccessor<&H5Dataset::GetFileOffset>("fileOffset"),
                                       InstanceAccessor<&H5Dataset::GetFilters>("filters"),
                                       InstanceAccessor<&H5Dataset::GetStorageSize>("storageSize"),
                                       InstanceAccessor<&H5Dataset::GetObjectId>("objectId"),
                                       InstanceAccessor<&H5Dataset::GetStoredAsNative>("storedAsNative"),
                                   });
  StateOf(env).dataset_class = Napi::Persistent(cls);
  exports.Set("Dataset", cls);
}

Napi::Object H5Dataset::Wrap(Napi::Env env, Napi::Object file_object, H5File* file, Hid dataset,
                             const std::string& name) {
  std::optional<DatasetHandOff>& hand_off = StateOf(env).dataset_hand_off;
  hand_off.emplace(DatasetHandOff{file, std::move(dataset), name});
  // Unclaimed (the constructor threw first), the dataset closes here rather than lingering.
  struct Unclaimed {
    std::optional<DatasetHandOff>& slot;
    ~Unclaimed() { slot.reset(); }
  } unclaimed{hand_off};
  return StateOf(env).dataset_class.New({file_object});
}

H5Dataset::H5Dataset(const Napi::CallbackInfo& info) : Napi::ObjectWrap<H5Dataset>(info) {
  Napi::Env env = info.Env();
  std::optional<DatasetHandOff>& hand_off = StateOf(env).dataset_hand_off;
  if (!hand_off) {
    Napi::TypeError::New(env, "Dataset objects come from File.createDataset() or File.openDataset()").ThrowAsJavaScriptException();
    return;
  }
  file_ = hand_off->file;
  dataset_ = std::move(hand_off->dataset);
  name_ = std::move(hand_off->name);
  hand_off.reset();
  file_ref_ = Napi::Persistent(info[0].As<Napi::Object>());
  file_->Adopt(this);

  Hid space = Dataspace(H5Dget_space(dataset_.get()));
  int rank = H5Sget_simple_extent_ndims(space.get());
  shape_.resize(rank);
  H5Sget_simple_extent_dims(space.get(), shape_.data(), nullptr);
  Hid type = Datatype(H5Dget_type(dataset_.get()));
  dtype_ = DtypeOfType(type.get());  // nullptr: unsupported, reported on first I/O
}

H5Dataset::~H5Dataset() {
  // A parallel dataset is not closed from the garbage collector (see ~H5File). Without a file,
  // the dataset was closed or detached already.
  if (file_) Detach(!file_->parallel());
}

herr_t H5Dataset::Detach(bool close) {
  if (file_) file_->Release(this);
  file_ = nullptr;
  herr_t status = 0;
  if (close) status = dataset_.Close();
  else dataset_.Abandon();
  if (!file_ref_.IsEmpty()) file_ref_.Reset();
  return status;
}

void H5Dataset::RequireOpen(Napi::Env env, const char* what) const {
  if (!dataset_.valid()) ThrowWithCode(env, kCodeClosed, "dataset " + name_ + " is closed; cannot " + what);
}

void H5Dataset::Select(const Napi::CallbackInfo& info, const char* op, Io& io) {
  Napi::Env env = info.Env();
  const Napi::TypedArray& buffer = io.buffer;
  std::vector<hsize_t> start = IndexArray(env, info[0], "start", shape_.size());
  std::vector<hsize_t> count = IndexArray(env, info[1], "count", shape_.size());
  hsize_t elements = 1;
  for (size_t i = 0; i < shape_.size(); i++) {
    if (start[i] + count[i] > shape_[i]) {
      ThrowWithCode(env, kCodeRange,
                    std::string(op) + " of " + name_ + ": hyperslab start " + DimsText(start) + " + count " + DimsText(count) +
                        " lies outside the dataset shape " + DimsText(shape_));
    }
    elements *= count[i];
  }
  if (!dtype_) ThrowWithCode(env, kCodeDtype, "dataset " + name_ + " has a datatype h5stitch does not support");
  const Dtype* given = DtypeOfArray(buffer);
  if (given != dtype_) {
    ThrowWithCode(env, kCodeDtype,
                  std::string("Expected a TypedArray of dtype ") + dtype_->name + " for " + op + " of " + name_ + " but received " +
                      Describe(buffer));
  }
  if (buffer.ElementLength() != elements) {
    ThrowWithCode(env, kCodeRange,
                  std::string("Expected a buffer of ") + std::to_string(elements) + " elements for " + op + " of " + name_ +
                      " (count " + DimsText(count) + ") but received " + std::to_string(buffer.ElementLength()));
  }
  io.memory_type = dtype_->native();
  io.file_space = Dataspace(H5Dget_space(dataset_.get()));
  CheckHdf5(env, io.file_space.get(), "H5Dget_space");
  if (elements == 0) {
    // Nothing to do on this rank, but it still takes part in a collective call.
    CheckHdf5(env, H5Sselect_none(io.file_space.get()), "H5Sselect_none");
    io.memory_space = Dataspace(H5Scopy(io.file_space.get()));
    CheckHdf5(env, H5Sselect_none(io.memory_space.get()), "H5Sselect_none");
    return;
  }
  CheckHdf5(env, H5Sselect_hyperslab(io.file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
            "H5Sselect_hyperslab");
  io.memory_space = Dataspace(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
  CheckHdf5(env, io.memory_space.get(), "H5Screate_simple");
}

// Transfer property list from an options object { transfer: 'collective' | 'independent' }.
Hid H5Dataset::TransferList(const Napi::CallbackInfo& info, size_t index, const char* op) {
  Napi::Env env = info.Env();
  Napi::Value transfer = OptionsArg(info, index, std::string(op) + " options").Get("transfer");
  const bool collective = !transfer.IsUndefined() &&
                          OneOf(env, transfer, {"collective", "independent"}, "'collective' | 'independent'", "transfer") == 0;
  Hid dxpl = PropertyList(H5Pcreate(H5P_DATASET_XFER));
  CheckHdf5(env, dxpl.get(), "H5Pcreate(DATASET_XFER)");
  if (file_->parallel()) {
    CheckHdf5(env, H5Pset_dxpl_mpio(dxpl.get(), collective ? H5FD_MPIO_COLLECTIVE : H5FD_MPIO_INDEPENDENT), "H5Pset_dxpl_mpio");
  }
  return dxpl;
}

H5Dataset::Io H5Dataset::PrepareIo(const Napi::CallbackInfo& info, const char* op, const char* buffer_what) {
  RequireOpen(info.Env(), op);
  Io io;
  io.buffer = ArgTypedArray(info, 2, buffer_what);
  Select(info, op, io);
  io.dxpl = TransferList(info, 3, op);
  // HDF5 wants a pointer even when there is nothing to transfer.
  static uint8_t nothing = 0;
  io.data = io.buffer.ElementLength() ? DataOf(io.buffer) : &nothing;
  return io;
}

// read(start, count, out, { transfer }) -> out
Napi::Value H5Dataset::Read(const Napi::CallbackInfo& info) {
  Io io = PrepareIo(info, "read", "read buffer");
  CheckHdf5(info.Env(), H5Dread(dataset_.get(), io.memory_type, io.memory_space.get(), io.file_space.get(), io.dxpl.get(), io.data),
            "H5Dread(" + name_ + ")");
  return io.buffer;
}

// write(start, count, data, { transfer }) -> the I/O mode HDF5 actually used
// ('independent', 'contiguous-collective', 'chunk-collective', ...; 'serial' for serial files).
Napi::Value H5Dataset::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Io io = PrepareIo(info, "write", "write data");
  CheckHdf5(env, H5Dwrite(dataset_.get(), io.memory_type, io.memory_space.get(), io.file_space.get(), io.dxpl.get(), io.data),
            "H5Dwrite(" + name_ + ")");
  if (!file_->parallel()) return Napi::String::New(env, "serial");
  H5D_mpio_actual_io_mode_t mode = H5D_MPIO_NO_COLLECTIVE;
  H5Pget_mpio_actual_io_mode(io.dxpl.get(), &mode);
  return Napi::String::New(env, ActualIoModeName(mode));
}

Napi::Value H5Dataset::SetAttr(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env(), "write an attribute");
  WriteAttribute(info.Env(), dataset_.get(), StringArg(info, 0, "attribute name"), info[1]);
  return info.Env().Undefined();
}

Napi::Value H5Dataset::GetAttr(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env(), "read an attribute");
  return ReadAttribute(info.Env(), dataset_.get(), StringArg(info, 0, "attribute name"));
}

Napi::Value H5Dataset::AttrNames(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env(), "list attributes");
  return AttributeNames(info.Env(), dataset_.get());
}

Napi::Value H5Dataset::Close(const Napi::CallbackInfo& info) {
  if (!dataset_.valid()) return info.Env().Undefined();
  CheckHdf5(info.Env(), Detach(true), "H5Dclose(" + name_ + ")");
  return info.Env().Undefined();
}

Napi::Value H5Dataset::GetShape(const Napi::CallbackInfo& info) {
  Napi::Array shape = Napi::Array::New(info.Env(), shape_.size());
  for (size_t i = 0; i < shape_.size(); i++) shape.Set(static_cast<uint32_t>(i), static_cast<double>(shape_[i]));
  return shape;
}

Napi::Value H5Dataset::GetDtype(const Napi::CallbackInfo& info) {
  if (!dtype_) return info.Env().Null();
  return Napi::String::New(info.Env(), dtype_->name);
}

Napi::Value H5Dataset::GetChunk(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "read its layout");
  Hid dcpl = PropertyList(H5Dget_create_plist(dataset_.get()));
  if (H5Pget_layout(dcpl.get()) != H5D_CHUNKED) return env.Null();
  std::vector<hsize_t> chunk(shape_.size());
  H5Pget_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data());
  Napi::Array result = Napi::Array::New(env, chunk.size());
  for (size_t i = 0; i < chunk.size(); i++) result.Set(static_cast<uint32_t>(i), static_cast<double>(chunk[i]));
  return result;
}

Napi::Value H5Dataset::GetName(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), name_); }

// Byte offset of a contiguous dataset's data in the file; null when it has none (chunked, or
// not allocated yet).
Napi::Value H5Dataset::GetFileOffset(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env(), "read its file offset");
  const haddr_t offset = H5Dget_offset(dataset_.get());
  H5Eclear2(H5E_DEFAULT);  // a chunked dataset's HADDR_UNDEF comes with an error stack
  if (offset == HADDR_UNDEF) return info.Env().Null();
  return Napi::Number::New(info.Env(), static_cast<double>(offset));
}

// The filter pipeline, in order: [{ id, name, values }] (values: the filter's client data, e.g.
// gzip's level); [] for none. What `inspect` shows as an output's compression.
Napi::Value H5Dataset::GetFilters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "read its filters");
  Hid dcpl = PropertyList(H5Dget_create_plist(dataset_.get()));
  CheckHdf5(env, dcpl.get(), "H5Dget_create_plist(" + name_ + ")");
  const int count = H5Pget_nfilters(dcpl.get());
  CheckHdf5(env, count, "H5Pget_nfilters(" + name_ + ")");
  Napi::Array result = Napi::Array::New(env, count);
  for (int i = 0; i < count; i++) {
    unsigned int flags = 0, config = 0;
    size_t values_count = 8;
    unsigned int values[8] = {0};
    char name[256] = {0};
    const H5Z_filter_t id = H5Pget_filter2(dcpl.get(), static_cast<unsigned>(i), &flags, &values_count, values, sizeof name, name, &config);
    CheckHdf5(env, id, "H5Pget_filter2(" + name_ + ")");
    Napi::Object filter = Napi::Object::New(env);
    filter.Set("id", static_cast<double>(id));
    filter.Set("name", id == H5Z_FILTER_DEFLATE ? "gzip" : id == H5Z_FILTER_SHUFFLE ? "shuffle" : id == H5Z_FILTER_FLETCHER32 ? "fletcher32" : std::string(name));
    Napi::Array list = Napi::Array::New(env, std::min<size_t>(values_count, 8));
    for (size_t k = 0; k < std::min<size_t>(values_count, 8); k++) list.Set(static_cast<uint32_t>(k), static_cast<double>(values[k]));
    filter.Set("values", list);
    result.Set(static_cast<uint32_t>(i), filter);
  }
  return result;
}

// Bytes the dataset's data takes in the file (H5Dget_storage_size): less than its size when
// compressed, 0 when not yet allocated.
Napi::Value H5Dataset::GetStorageSize(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env(), "read its storage size");
  return Napi::Number::New(info.Env(), static_cast<double>(H5Dget_storage_size(dataset_.get())));
}

// Whether the file stores the elements bit for bit as a typed array of `dtype` holds them here
// (this machine's byte order, same size and format), so its bytes may be read without HDF5's
// conversion (lib/io/sources/hdf5.ts rawRegion); false for an unsupported type.
Napi::Value H5Dataset::GetStoredAsNative(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "read its stored type");
  if (!dtype_) return Napi::Boolean::New(env, false);
  Hid type = Datatype(H5Dget_type(dataset_.get()));
  CheckHdf5(env, type.get(), "H5Dget_type(" + name_ + ")");
  const htri_t equal = H5Tequal(type.get(), dtype_->native());
  CheckHdf5(env, equal, "H5Tequal(" + name_ + ")");
  return Napi::Boolean::New(env, equal > 0);
}

// Which object in the file this is (file number and address, or token): two paths with the same
// id are hard links to one dataset (a pyramid's /multiscale/s0 and /stitched).
Napi::Value H5Dataset::GetObjectId(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "read its object id");
#if H5_VERSION_GE(1, 12, 0)
  H5O_info2_t object;
  CheckHdf5(env, H5Oget_info3(dataset_.get(), &object, H5O_INFO_BASIC), "H5Oget_info3(" + name_ + ")");
  char* token = nullptr;
  CheckHdf5(env, H5Otoken_to_str(dataset_.get(), &object.token, &token), "H5Otoken_to_str(" + name_ + ")");
  std::string id = std::to_string(object.fileno) + ":" + token;
  H5free_memory(token);
#else
  H5O_info_t object;
  CheckHdf5(env, H5Oget_info2(dataset_.get(), &object, H5O_INFO_BASIC), "H5Oget_info2(" + name_ + ")");
  std::string id = std::to_string(object.fileno) + ":" + std::to_string(object.addr);
#endif
  return Napi::String::New(env, id);
}

}  // namespace h5stitch
