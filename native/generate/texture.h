// The registration test set's specimen (cells, fibres, fine value noise) rendered into one tile at
// a sub-pixel canvas position, with uneven illumination and Gaussian sensor noise (texture.cc).
#pragma once

#include <cstdint>

namespace h5stitch::gen {

struct TileLook {
  double y = 0, x = 0;             // the tile's true canvas position (sub-pixel)
  uint32_t seed = 1;               // the specimen: the same seed gives the same image everywhere
  bool blank = false;              // background and noise only
  double gradientY = 0, gradientX = 0, gain = 1;  // illumination: gain·(1 + gy·v + gx·u)·vignette
  double noise = 0;                // sensor noise, standard deviation in signal units
  uint64_t noiseSeed = 1;          // per tile: tiles can be rendered in any order, on any rank
};

// Fills out[h·w] (row-major) with signal·light + noise, signal = 0.1 (+ texture unless blank).
void RenderTile(const TileLook& look, int height, int width, double* out);

// The specimen at canvas point (y, x), about [0, 1.5]: what RenderTile draws, one point at a time.
double TextureAt(double y, double x, uint32_t seed);

}  // namespace h5stitch::gen
