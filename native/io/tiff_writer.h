// TIFF files written with libtiff, for `bench` (the same tiles as HDF5 and as TIFF series).
#pragma once

#include <napi.h>

namespace h5stitch {

// writeTiff(path, pixels, { height, width, compression: 'none' | 'deflate', rowsPerStrip?, tile?: [h, w] }):
// pixels (a typed array of the tiles' dtype) hold one or more height x width pages, each written
// as one page (IFD) of a classic TIFF (BigTIFF past 2 GiB). Throws ERR_TIFF naming the file.
void RegisterTiffWriter(Napi::Env env, Napi::Object exports);

}  // namespace h5stitch
