#include "io/tiff_reader.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "common/args.h"
#include "common/errors.h"

namespace h5stitch {

namespace {

// libtiff reports through process-wide handlers that print to stderr by default. The last error
// of the calling thread is kept instead, and goes into the ERR_TIFF message; warnings (unknown
// tags and the like) are dropped. Only the JS thread calls libtiff.
thread_local std::string last_error;

void CaptureError(const char* module, const char* format, va_list args) {
  char text[1024];
  vsnprintf(text, sizeof text, format, args);
  last_error = module && *module ? std::string(module) + ": " + text : std::string(text);
}

void IgnoreWarning(const char*, const char*, va_list) {}

std::string TakeLastError() {
  std::string message = last_error.empty() ? "libtiff reported no reason" : last_error;
  last_error.clear();
  return message;
}

// The element type of a page as the TypeScript dtype names it; "" when h5stitch has no such type.
std::string DtypeOf(const TiffPage& p) {
  switch (p.sample_format) {
    case SAMPLEFORMAT_UINT:
      return p.bits == 8 ? "uint8" : p.bits == 16 ? "uint16" : p.bits == 32 ? "uint32" : p.bits == 64 ? "uint64" : "";
    case SAMPLEFORMAT_INT:
      return p.bits == 8 ? "int8" : p.bits == 16 ? "int16" : p.bits == 32 ? "int32" : p.bits == 64 ? "int64" : "";
    case SAMPLEFORMAT_IEEEFP:
      return p.bits == 32 ? "float32" : p.bits == 64 ? "float64" : "";
    default:
      return "";
  }
}

std::string CompressionName(uint16_t c) {
  switch (c) {
    case COMPRESSION_NONE: return "none";
    case COMPRESSION_LZW: return "lzw";
    case COMPRESSION_ADOBE_DEFLATE: case COMPRESSION_DEFLATE: return "deflate";
    case COMPRESSION_PACKBITS: return "packbits";
    case COMPRESSION_JPEG: case COMPRESSION_OJPEG: return "jpeg";
    case COMPRESSION_LZMA: return "lzma";
    case 50000: return "zstd";  // COMPRESSION_ZSTD, absent from older headers
    case 50001: return "webp";
    default: return "compression " + std::to_string(c);
  }
}

}  // namespace

std::string TakeLastTiffError() { return TakeLastError(); }
void ClearLastTiffError() { last_error.clear(); }

void TiffFile::Register(Napi::Env env, Napi::Object exports) {
  TIFFSetErrorHandler(CaptureError);
  TIFFSetWarningHandler(IgnoreWarning);
  Napi::Function cls = DefineClass(env, "TiffFile",
                                   {
                                       InstanceMethod<&TiffFile::ReadRegion>("readRegion"),
                                       InstanceMethod<&TiffFile::Close>("close"),
                                       InstanceAccessor<&TiffFile::GetPath>("path"),
                                       InstanceAccessor<&TiffFile::GetPages>("pages"),
                                   });
  exports.Set("TiffFile", cls);
}

void TiffFile::Fail(Napi::Env env, const std::string& what) const {
  ThrowWithCode(env, kCodeTiff, "TIFF " + path_ + ": " + what + ": " + TakeLastError());
}

TiffFile::TiffFile(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TiffFile>(info) {
  Napi::Env env = info.Env();
  path_ = StringArg(info, 0, "path");
  last_error.clear();
  // "m": no memory mapping, so a file truncated under us is a read error, not a SIGBUS.
  tif_ = TIFFOpen(path_.c_str(), "rm");
  if (!tif_) Fail(env, "cannot open");
  do {
    TiffPage p;
    TIFFGetField(tif_, TIFFTAG_IMAGEWIDTH, &p.width);
    TIFFGetField(tif_, TIFFTAG_IMAGELENGTH, &p.height);
    TIFFGetFieldDefaulted(tif_, TIFFTAG_BITSPERSAMPLE, &p.bits);
    TIFFGetFieldDefaulted(tif_, TIFFTAG_SAMPLEFORMAT, &p.sample_format);
    TIFFGetFieldDefaulted(tif_, TIFFTAG_SAMPLESPERPIXEL, &p.samples);
    TIFFGetFieldDefaulted(tif_, TIFFTAG_PLANARCONFIG, &p.planar);
    TIFFGetFieldDefaulted(tif_, TIFFTAG_COMPRESSION, &p.compression);
    if (!TIFFGetField(tif_, TIFFTAG_PHOTOMETRIC, &p.photometric)) p.photometric = PHOTOMETRIC_MINISBLACK;
    p.tiled = TIFFIsTiled(tif_);
    if (p.tiled) {
      TIFFGetField(tif_, TIFFTAG_TILEWIDTH, &p.tile_width);
      TIFFGetField(tif_, TIFFTAG_TILELENGTH, &p.tile_height);
    } else {
      TIFFGetFieldDefaulted(tif_, TIFFTAG_ROWSPERSTRIP, &p.rows_per_strip);
      p.rows_per_strip = std::min(std::max<uint32_t>(p.rows_per_strip, 1), std::max<uint32_t>(p.height, 1));
    }
    CheckChunksInFile(env, p, static_cast<uint32_t>(pages_.size()));
    pages_.push_back(p);
  } while (TIFFReadDirectory(tif_));
  // TIFFReadDirectory returns 0 at the end and on a broken next IFD alike; only the latter sets an error.
  if (!last_error.empty()) {
    std::string reason = TakeLastError();
    CloseHandle();
    ThrowWithCode(env, kCodeTiff, "TIFF " + path_ + ": cannot read page " + std::to_string(pages_.size()) + ": " + reason);
  }
  current_page_ = static_cast<int64_t>(pages_.size()) - 1;
}

void TiffFile::CheckChunksInFile(Napi::Env env, const TiffPage& p, uint32_t page) {
  // A truncated file (a copy cut short) keeps its header and IFDs but loses the last strips: refuse
  // it at open, while the job can still end before writing, not when a band first reads them.
  uint64_t *offsets = nullptr, *counts = nullptr;
  if (!TIFFGetField(tif_, p.tiled ? TIFFTAG_TILEOFFSETS : TIFFTAG_STRIPOFFSETS, &offsets) ||
      !TIFFGetField(tif_, p.tiled ? TIFFTAG_TILEBYTECOUNTS : TIFFTAG_STRIPBYTECOUNTS, &counts) || !offsets || !counts) {
    return;  // libtiff refuses such a page itself when it is read
  }
  const uint64_t size = static_cast<uint64_t>(TIFFGetSizeProc(tif_)(TIFFClientdata(tif_)));
  const uint32_t chunks = p.tiled ? TIFFNumberOfTiles(tif_) : TIFFNumberOfStrips(tif_);
  for (uint32_t i = 0; i < chunks; i++) {
    if (counts[i] > 0 && offsets[i] + counts[i] > size) {
      const std::string reason = "page " + std::to_string(page) + (p.tiled ? " tile " : " strip ") + std::to_string(i) + " ends at byte " +
                                 std::to_string(offsets[i] + counts[i]) + " but the file has " + std::to_string(size) + " bytes (truncated?)";
      CloseHandle();
      ThrowWithCode(env, kCodeTiff, "TIFF " + path_ + ": " + reason);
    }
  }
}

void TiffFile::CloseHandle() {
  if (tif_) TIFFClose(tif_);
  tif_ = nullptr;
  decoded_.clear();
  decoded_.shrink_to_fit();
}

Napi::Value TiffFile::Close(const Napi::CallbackInfo& info) {
  CloseHandle();
  return info.Env().Undefined();
}

Napi::Value TiffFile::GetPath(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), path_); }

Napi::Value TiffFile::GetPages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array pages = Napi::Array::New(env, pages_.size());
  for (size_t i = 0; i < pages_.size(); i++) {
    const TiffPage& p = pages_[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("height", p.height);
    o.Set("width", p.width);
    const std::string dtype = DtypeOf(p);
    o.Set("dtype", dtype.empty() ? env.Null() : Napi::String::New(env, dtype));
    o.Set("bitsPerSample", p.bits);
    o.Set("sampleFormat", p.sample_format);
    o.Set("samplesPerPixel", p.samples);
    o.Set("photometric", p.photometric);
    o.Set("tiled", p.tiled);
    o.Set("compression", CompressionName(p.compression));
    o.Set("codecAvailable", TIFFIsCODECConfigured(p.compression) != 0);
    if (p.tiled) {
      o.Set("tileHeight", p.tile_height);
      o.Set("tileWidth", p.tile_width);
    } else {
      o.Set("rowsPerStrip", p.rows_per_strip);
    }
    pages.Set(i, o);
  }
  return pages;
}

void TiffFile::SelectPage(Napi::Env env, uint32_t page) {
  if (current_page_ == page) return;
  if (!TIFFSetDirectory(tif_, static_cast<tdir_t>(page))) Fail(env, "cannot select page " + std::to_string(page));
  current_page_ = page;
}

const uint8_t* TiffFile::Decode(Napi::Env env, uint32_t chunk) {
  const TiffPage& p = pages_[current_page_];
  const size_t capacity = p.tiled ? (p.width + p.tile_width - 1) / p.tile_width : 1;
  if (decoded_.size() != capacity) decoded_.assign(capacity, Decoded{});
  Decoded* slot = &decoded_[0];
  for (Decoded& d : decoded_) {
    if (d.page == current_page_ && d.index == chunk) {
      d.used = ++clock_;
      return d.bytes.data();
    }
    if (d.used < slot->used) slot = &d;
  }
  const tmsize_t size = p.tiled ? TIFFTileSize(tif_) : TIFFStripSize(tif_);
  if (size <= 0) Fail(env, "page " + std::to_string(current_page_) + " has no valid strip or tile size");
  slot->bytes.resize(static_cast<size_t>(size));
  slot->page = slot->index = -1;  // until the decode succeeds
  const tmsize_t got = p.tiled ? TIFFReadEncodedTile(tif_, chunk, slot->bytes.data(), size)
                               : TIFFReadEncodedStrip(tif_, chunk, slot->bytes.data(), size);
  // A strip holds fewer rows at the bottom of the page; anything less than that is a broken file.
  const uint32_t rows = p.tiled ? p.tile_height : std::min(p.rows_per_strip, p.height - chunk * p.rows_per_strip);
  const tmsize_t needed = p.tiled ? size : static_cast<tmsize_t>(rows) * TIFFScanlineSize(tif_);
  if (got < needed) {
    if (got >= 0 && last_error.empty()) last_error = "decoded " + std::to_string(got) + " of " + std::to_string(needed) + " bytes";
    Fail(env, "page " + std::to_string(current_page_) + (p.tiled ? " tile " : " strip ") + std::to_string(chunk));
  }
  slot->page = current_page_;
  slot->index = chunk;
  slot->used = ++clock_;
  return slot->bytes.data();
}

Napi::Value TiffFile::ReadRegion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!tif_) ThrowWithCode(env, kCodeClosed, "TIFF " + path_ + " is closed");
  const int64_t page = SafeInteger(env, info[0], "a page index", "page", info[0]);
  if (page < 0 || page >= static_cast<int64_t>(pages_.size())) {
    ThrowWithCode(env, kCodeRange, "TIFF " + path_ + ": page " + std::to_string(page) + " out of range (" +
                                       std::to_string(pages_.size()) + " pages)");
  }
  const TiffPage& p = pages_[page];
  int64_t bounds[4];
  const char* names[4] = {"y0", "y1", "x0", "x1"};
  for (int i = 0; i < 4; i++) bounds[i] = SafeInteger(env, info[1 + i], "an integer", names[i], info[1 + i]);
  const int64_t y0 = bounds[0], y1 = bounds[1], x0 = bounds[2], x1 = bounds[3];
  if (y0 < 0 || y1 > p.height || y0 >= y1 || x0 < 0 || x1 > p.width || x0 >= x1) {
    ThrowWithCode(env, kCodeRange, "TIFF " + path_ + ": region [" + std::to_string(y0) + ", " + std::to_string(y1) + ") x [" +
                                       std::to_string(x0) + ", " + std::to_string(x1) + ") outside the " +
                                       std::to_string(p.height) + "x" + std::to_string(p.width) + " page");
  }
  Napi::TypedArray out = ArgTypedArray(info, 5, "out");
  const size_t element = p.bits / 8;
  const size_t cols = static_cast<size_t>(x1 - x0);
  if (p.samples != 1 || (p.bits % 8) != 0 || DtypeOf(p).empty()) {
    ThrowWithCode(env, kCodeDtype, "TIFF " + path_ + ": page " + std::to_string(page) + " is not a single-channel integer or float image");
  }
  if (out.ElementSize() != element || out.ElementLength() != static_cast<size_t>(y1 - y0) * cols) {
    ThrowTypeError(env, "a typed array of " + std::to_string((y1 - y0) * cols) + " " + DtypeOf(p) + " elements", "out", out);
  }
  uint8_t* dst = static_cast<uint8_t*>(DataOf(out));
  SelectPage(env, static_cast<uint32_t>(page));
  if (p.tiled) {
    const uint32_t th = p.tile_height, tw = p.tile_width;
    for (uint32_t ty = static_cast<uint32_t>(y0) / th * th; ty < y1; ty += th) {
      for (uint32_t tx = static_cast<uint32_t>(x0) / tw * tw; tx < x1; tx += tw) {
        const uint8_t* tile = Decode(env, TIFFComputeTile(tif_, tx, ty, 0, 0));
        const int64_t ry0 = std::max<int64_t>(y0, ty), ry1 = std::min<int64_t>(y1, ty + th);
        const int64_t rx0 = std::max<int64_t>(x0, tx), rx1 = std::min<int64_t>(x1, tx + tw);
        for (int64_t y = ry0; y < ry1; y++) {
          std::memcpy(dst + ((y - y0) * cols + (rx0 - x0)) * element, tile + ((y - ty) * tw + (rx0 - tx)) * element,
                      (rx1 - rx0) * element);
        }
      }
    }
  } else {
    const uint32_t rps = p.rows_per_strip;
    const size_t row_bytes = static_cast<size_t>(p.width) * element;
    for (uint32_t sy = static_cast<uint32_t>(y0) / rps * rps; sy < y1; sy += rps) {
      const uint8_t* strip = Decode(env, TIFFComputeStrip(tif_, sy, 0));
      const int64_t ry0 = std::max<int64_t>(y0, sy), ry1 = std::min<int64_t>(y1, sy + rps);
      for (int64_t y = ry0; y < ry1; y++) {
        std::memcpy(dst + (y - y0) * cols * element, strip + (y - sy) * row_bytes + x0 * element, cols * element);
      }
    }
  }
  return out;
}

}  // namespace h5stitch
