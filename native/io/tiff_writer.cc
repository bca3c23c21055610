#include "io/tiff_writer.h"

#include <tiffio.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/args.h"
#include "common/errors.h"
#include "io/tiff_reader.h"

namespace h5stitch {

namespace {

struct SampleType {
  uint16_t bits, format;
};

SampleType SampleTypeOf(Napi::Env env, const Napi::TypedArray& pixels) {
  switch (pixels.TypedArrayType()) {
    case napi_int8_array: return {8, SAMPLEFORMAT_INT};
    case napi_uint8_array: return {8, SAMPLEFORMAT_UINT};
    case napi_int16_array: return {16, SAMPLEFORMAT_INT};
    case napi_uint16_array: return {16, SAMPLEFORMAT_UINT};
    case napi_int32_array: return {32, SAMPLEFORMAT_INT};
    case napi_uint32_array: return {32, SAMPLEFORMAT_UINT};
    case napi_float32_array: return {32, SAMPLEFORMAT_IEEEFP};
    case napi_float64_array: return {64, SAMPLEFORMAT_IEEEFP};
    default: ThrowTypeError(env, "a numeric typed array", "pixels", pixels);
  }
}

Napi::Value WriteTiff(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = StringArg(info, 0, "path");
  Napi::TypedArray pixels = ArgTypedArray(info, 1, "pixels");
  Napi::Object options = OptionsArg(info, 2, "options");
  const SampleType type = SampleTypeOf(env, pixels);
  const int64_t height = IntegerField(env, options, "height"), width = IntegerField(env, options, "width");
  if (height < 1 || width < 1 || height > UINT32_MAX || width > UINT32_MAX) {
    ThrowTypeError(env, "positive 32-bit height and width", "options", options);
  }
  const size_t page_elements = static_cast<size_t>(height) * width;
  if (pixels.ElementLength() == 0 || pixels.ElementLength() % page_elements != 0) {
    ThrowTypeError(env, "whole " + std::to_string(height) + "x" + std::to_string(width) + " pages", "pixels", pixels);
  }
  const size_t pages = pixels.ElementLength() / page_elements;
  const uint16_t compression =
      OneOf(env, options.Get("compression"), {"none", "deflate"}, "none | deflate", "compression") == 0 ? COMPRESSION_NONE
                                                                                                       : COMPRESSION_ADOBE_DEFLATE;
  std::vector<uint32_t> tile;
  if (!options.Get("tile").IsUndefined()) {
    tile = DimsOption<uint32_t>(env, options.Get("tile"), "tile", false);
    if (tile.size() != 2 || tile[0] % 16 != 0 || tile[1] % 16 != 0) ThrowTypeError(env, "[h, w], multiples of 16", "tile", options.Get("tile"));
  }
  int64_t rows_per_strip = options.Get("rowsPerStrip").IsUndefined() ? 0 : IntegerField(env, options, "rowsPerStrip");
  const size_t element = type.bits / 8, row_bytes = static_cast<size_t>(width) * element;
  // libtiff's default: strips of about 8 KiB.
  if (rows_per_strip <= 0) rows_per_strip = std::max<int64_t>(1, 8192 / static_cast<int64_t>(row_bytes));
  rows_per_strip = std::min<int64_t>(rows_per_strip, height);

  const uint64_t bytes = static_cast<uint64_t>(pixels.ByteLength());
  ClearLastTiffError();
  TIFF* tif = TIFFOpen(path.c_str(), bytes > (1ull << 31) ? "w8" : "w");
  auto fail = [&](const std::string& what) {
    if (tif) TIFFClose(tif);
    ThrowWithCode(env, kCodeTiff, "TIFF " + path + ": " + what + ": " + TakeLastTiffError());
  };
  if (!tif) fail("cannot create");
  const uint8_t* data = static_cast<const uint8_t*>(DataOf(pixels));
  std::vector<uint8_t> buffer;
  for (size_t page = 0; page < pages; page++) {
    const uint8_t* plane = data + page * page_elements * element;
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, static_cast<uint32_t>(width));
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, static_cast<uint32_t>(height));
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, type.bits);
    TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, type.format);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, static_cast<uint16_t>(1));
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, compression);
    if (pages > 1) {
      TIFFSetField(tif, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
      TIFFSetField(tif, TIFFTAG_PAGENUMBER, static_cast<uint16_t>(page), static_cast<uint16_t>(pages));
    }
    if (!tile.empty()) {
      const uint32_t th = tile[0], tw = tile[1];
      TIFFSetField(tif, TIFFTAG_TILELENGTH, th);
      TIFFSetField(tif, TIFFTAG_TILEWIDTH, tw);
      buffer.assign(static_cast<size_t>(th) * tw * element, 0);
      for (uint32_t ty = 0; ty < height; ty += th) {
        for (uint32_t tx = 0; tx < width; tx += tw) {
          // Edge tiles are padded with zeros, as TIFF tiles are always whole.
          std::fill(buffer.begin(), buffer.end(), 0);
          const uint32_t rows = std::min<uint32_t>(th, height - ty), cols = std::min<uint32_t>(tw, width - tx);
          for (uint32_t y = 0; y < rows; y++) {
            std::memcpy(buffer.data() + static_cast<size_t>(y) * tw * element, plane + ((ty + y) * static_cast<size_t>(width) + tx) * element,
                        cols * element);
          }
          if (TIFFWriteEncodedTile(tif, TIFFComputeTile(tif, tx, ty, 0, 0), buffer.data(), static_cast<tmsize_t>(buffer.size())) < 0) {
            fail("page " + std::to_string(page) + ": cannot write a tile");
          }
        }
      }
    } else {
      TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, static_cast<uint32_t>(rows_per_strip));
      for (int64_t y = 0, strip = 0; y < height; y += rows_per_strip, strip++) {
        const int64_t rows = std::min<int64_t>(rows_per_strip, height - y);
        // libtiff takes a non-const buffer but does not change it (it copies before encoding).
        if (TIFFWriteEncodedStrip(tif, static_cast<uint32_t>(strip), const_cast<uint8_t*>(plane + y * row_bytes),
                                  static_cast<tmsize_t>(rows * row_bytes)) < 0) {
          fail("page " + std::to_string(page) + ": cannot write strip " + std::to_string(strip));
        }
      }
    }
    if (!TIFFWriteDirectory(tif)) fail("cannot write page " + std::to_string(page));
  }
  TIFFClose(tif);
  return env.Undefined();
}

}  // namespace

void RegisterTiffWriter(Napi::Env env, Napi::Object exports) {
  exports.Set("writeTiff", Napi::Function::New(env, WriteTiff, "writeTiff"));
}

}  // namespace h5stitch
