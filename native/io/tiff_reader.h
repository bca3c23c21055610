// TIFF tiles read with libtiff: classic TIFF and BigTIFF, strips or tiles, every codec libtiff was
// built with. Only the strips or tiles a region touches are decoded.
#pragma once

#include <napi.h>
#include <tiffio.h>

#include <cstdint>
#include <string>
#include <vector>

namespace h5stitch {

constexpr const char* kCodeTiff = "ERR_TIFF";

// libtiff's last error on this thread (its handlers keep it instead of printing it), then cleared.
std::string TakeLastTiffError();
void ClearLastTiffError();

// What one page (IFD) holds, read once at open.
struct TiffPage {
  uint32_t width = 0, height = 0;
  uint16_t bits = 0, sample_format = SAMPLEFORMAT_UINT, samples = 1, planar = PLANARCONFIG_CONTIG;
  uint16_t compression = COMPRESSION_NONE, photometric = PHOTOMETRIC_MINISBLACK;
  bool tiled = false;
  uint32_t tile_width = 0, tile_height = 0;  // tiled pages
  uint32_t rows_per_strip = 0;               // strip pages
};

// new TiffFile(path): { path, pages: [{ height, width, dtype, tiled, compression, ... }], readRegion, close }
class TiffFile : public Napi::ObjectWrap<TiffFile> {
 public:
  static void Register(Napi::Env env, Napi::Object exports);
  explicit TiffFile(const Napi::CallbackInfo& info);
  ~TiffFile() override { CloseHandle(); }

 private:
  // readRegion(page, y0, y1, x0, x1, out): rows [y0,y1) x cols [x0,x1) of `page` into `out` (a
  // typed array of the page's dtype with exactly that many elements).
  Napi::Value ReadRegion(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value GetPath(const Napi::CallbackInfo& info);
  Napi::Value GetPages(const Napi::CallbackInfo& info);

  void CloseHandle();
  [[noreturn]] void Fail(Napi::Env env, const std::string& what) const;
  void SelectPage(Napi::Env env, uint32_t page);
  // Throws ERR_TIFF when a strip or tile of the current directory lies past the end of the file.
  void CheckChunksInFile(Napi::Env env, const TiffPage& p, uint32_t page);
  // Strip or tile `chunk` of the current page, decoded. The last few stay decoded: bands cut
  // through strips and tiles, so the next band often needs the same ones again.
  const uint8_t* Decode(Napi::Env env, uint32_t chunk);

  TIFF* tif_ = nullptr;
  std::string path_;
  std::vector<TiffPage> pages_;
  int64_t current_page_ = -1;
  struct Decoded {
    int64_t page = -1, index = -1;
    uint64_t used = 0;  // LRU stamp
    std::vector<uint8_t> bytes;
  };
  // One strip, or one row of tiles across the page.
  std::vector<Decoded> decoded_;
  uint64_t clock_ = 0;
};

}  // namespace h5stitch
