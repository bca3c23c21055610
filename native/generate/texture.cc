// See texture.h. The specimen is a pure function of canvas position and seed (TextureAt). A tile
// is drawn by splatting: each blob and fibre near the tile adds itself over its own footprint
// (blobs are separable Gaussians), and the value noise uses a lattice hashed once per tile. That
// is ~20x cheaper than evaluating TextureAt per pixel, which matters for 3.6 Gpx benchmark sets.
#include "generate/texture.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace h5stitch::gen {
namespace {

constexpr double kCell = 24;    // one blob per 24x24 cell, sigma 2.5-6 px
constexpr double kFibre = 64;   // one fibre segment per 64x64 cell, 40-120 px long, sigma 1.3 px
constexpr double kLattice = 3;  // value noise on a 3 px lattice, C1 (smoothstep) interpolated
constexpr double kPi = 3.14159265358979323846;

// Integer hash to [0, 1).
double Hash(int64_t a, int64_t b, int c, uint32_t seed) {
  uint32_t h = static_cast<uint32_t>(a) * 0x27d4eb2du ^ static_cast<uint32_t>(b) * 0x165667b1u ^
               static_cast<uint32_t>(c) * 0x9e3779b1u ^ seed * 0x85ebca6bu;
  h = (h ^ (h >> 15)) * 0x2c1b3c6du;
  h = (h ^ (h >> 12)) * 0x297a2d39u;
  return (h ^ (h >> 15)) / 4294967296.0;
}

struct Blob { double y, x, sigma, amplitude; };
Blob BlobOf(int64_t i, int64_t j, uint32_t seed) {
  return {(i + Hash(i, j, 1, seed)) * kCell, (j + Hash(i, j, 2, seed)) * kCell, 2.5 + 3.5 * Hash(i, j, 3, seed), 0.3 + 0.7 * Hash(i, j, 4, seed)};
}

struct Fibre { double y, x, uy, ux, half; };
Fibre FibreOf(int64_t i, int64_t j, uint32_t seed) {
  const double angle = kPi * Hash(i, j, 7, seed);
  return {(i + Hash(i, j, 5, seed)) * kFibre, (j + Hash(i, j, 6, seed)) * kFibre, std::sin(angle), std::cos(angle), 20 + 40 * Hash(i, j, 8, seed)};
}

double FibreAt(const Fibre& f, double y, double x) {
  const double along = (y - f.y) * f.uy + (x - f.x) * f.ux;
  if (std::fabs(along) > f.half) return 0;
  const double across = -(y - f.y) * f.ux + (x - f.x) * f.uy;
  return std::fabs(across) < 5 ? 0.6 * std::exp(-(across * across) / (2 * 1.3 * 1.3)) : 0;
}

double Smooth(double t) { return t * t * (3 - 2 * t); }

// splitmix64: a fast, well-mixed 64-bit stream per tile.
uint64_t SplitMix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Standard normal quantiles at (k + 0.5) / 65536: 16 random bits give one Gaussian sample.
const std::vector<float>& NormalTable() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (int k = 0; k < 65536; k++) {
      const double p = (k + 0.5) / 65536;
      double z = 0;  // Newton on Phi(z) = p
      for (int it = 0; it < 50; it++) {
        const double phi = 0.5 * std::erfc(-z / std::sqrt(2.0)), pdf = std::exp(-0.5 * z * z) / std::sqrt(2 * kPi);
        const double step = (phi - p) / pdf;
        z -= std::clamp(step, -1.0, 1.0);
        if (std::fabs(step) < 1e-12) break;
      }
      t[k] = static_cast<float>(z);
    }
    return t;
  }();
  return table;
}

int64_t Floor(double v) { return static_cast<int64_t>(std::floor(v)); }

}  // namespace

double TextureAt(double y, double x, uint32_t seed) {
  double v = 0;
  const int64_t cy = Floor(y / kCell), cx = Floor(x / kCell);
  for (int64_t i = cy - 1; i <= cy + 1; i++)
    for (int64_t j = cx - 1; j <= cx + 1; j++) {
      const Blob b = BlobOf(i, j, seed);
      const double d2 = (y - b.y) * (y - b.y) + (x - b.x) * (x - b.x);
      if (d2 < 9 * b.sigma * b.sigma) v += b.amplitude * std::exp(-d2 / (2 * b.sigma * b.sigma));
    }
  const int64_t fy = Floor(y / kFibre), fx = Floor(x / kFibre);
  for (int64_t i = fy - 1; i <= fy + 1; i++)
    for (int64_t j = fx - 1; j <= fx + 1; j++) v += FibreAt(FibreOf(i, j, seed), y, x);
  const double gy = y / kLattice, gx = x / kLattice;
  const int64_t iy = Floor(gy), ix = Floor(gx);
  const double sy = Smooth(gy - iy), sx = Smooth(gx - ix);
  const double n00 = Hash(iy, ix, 9, seed), n01 = Hash(iy, ix + 1, 9, seed), n10 = Hash(iy + 1, ix, 9, seed), n11 = Hash(iy + 1, ix + 1, 9, seed);
  return v + 0.25 * ((n00 * (1 - sx) + n01 * sx) * (1 - sy) + (n10 * (1 - sx) + n11 * sx) * sy);
}

void RenderTile(const TileLook& look, int height, int width, double* out) {
  const size_t n = static_cast<size_t>(height) * width;
  std::vector<double> tex(n, 0.0);
  const double y0 = look.y, x0 = look.x, y1 = y0 + height - 1, x1 = x0 + width - 1;
  if (!look.blank) {
    // Blobs: a pixel sees the blobs of its own and the 8 neighbouring cells (as TextureAt does),
    // within 3 sigma; the Gaussian is separable, so a footprint costs one multiply per pixel.
    std::vector<double> gx, ex;
    for (int64_t i = Floor(y0 / kCell) - 1; i <= Floor(y1 / kCell) + 1; i++)
      for (int64_t j = Floor(x0 / kCell) - 1; j <= Floor(x1 / kCell) + 1; j++) {
        const Blob b = BlobOf(i, j, look.seed);
        const double reach = 3 * b.sigma, s2 = 2 * b.sigma * b.sigma, r2 = 9 * b.sigma * b.sigma;
        // Canvas rows/cols the blob reaches, within the tile and the cells around its own.
        const int ya = static_cast<int>(std::max<double>(0, std::ceil(std::max(b.y - reach, (i - 1) * kCell) - y0)));
        const int yb = static_cast<int>(std::min<double>(height - 1, std::ceil(std::min(b.y + reach, (i + 2) * kCell) - y0) - 1));
        const int xa = static_cast<int>(std::max<double>(0, std::ceil(std::max(b.x - reach, (j - 1) * kCell) - x0)));
        const int xb = static_cast<int>(std::min<double>(width - 1, std::ceil(std::min(b.x + reach, (j + 2) * kCell) - x0) - 1));
        if (ya > yb || xa > xb) continue;
        gx.resize(xb - xa + 1);
        ex.resize(xb - xa + 1);
        for (int x = xa; x <= xb; x++) {
          const double d = x0 + x - b.x;
          gx[x - xa] = d * d;
          ex[x - xa] = std::exp(-d * d / s2);
        }
        for (int y = ya; y <= yb; y++) {
          const double dy2 = (y0 + y - b.y) * (y0 + y - b.y);
          if (dy2 >= r2) continue;
          const double fy = b.amplitude * std::exp(-dy2 / s2);
          double* row = tex.data() + static_cast<size_t>(y) * width;
          for (int x = xa; x <= xb; x++) {
            const double d2 = dy2 + gx[x - xa];
            if (d2 < r2) row[x] += fy * ex[x - xa];
          }
        }
      }
    // Fibres: over each segment's bounding box (grown by the 5 px half width), within the cells
    // around its own.
    for (int64_t i = Floor(y0 / kFibre) - 1; i <= Floor(y1 / kFibre) + 1; i++)
      for (int64_t j = Floor(x0 / kFibre) - 1; j <= Floor(x1 / kFibre) + 1; j++) {
        const Fibre f = FibreOf(i, j, look.seed);
        const double ey = f.half * std::fabs(f.uy) + 5, ex = f.half * std::fabs(f.ux) + 5;
        const int ya = static_cast<int>(std::max<double>(0, std::ceil(std::max(f.y - ey, (i - 1) * kFibre) - y0)));
        const int yb = static_cast<int>(std::min<double>(height - 1, std::ceil(std::min(f.y + ey, (i + 2) * kFibre) - y0) - 1));
        const int xa = static_cast<int>(std::max<double>(0, std::ceil(std::max(f.x - ex, (j - 1) * kFibre) - x0)));
        const int xb = static_cast<int>(std::min<double>(width - 1, std::ceil(std::min(f.x + ex, (j + 2) * kFibre) - x0) - 1));
        for (int y = ya; y <= yb; y++) {
          double* row = tex.data() + static_cast<size_t>(y) * width;
          for (int x = xa; x <= xb; x++) row[x] += FibreAt(f, y0 + y, x0 + x);
        }
      }
    // Value noise: the lattice over the tile hashed once; per row and column its cell and weight.
    const int64_t ly0 = Floor(y0 / kLattice), lx0 = Floor(x0 / kLattice);
    const int64_t lh = Floor(y1 / kLattice) - ly0 + 2, lw = Floor(x1 / kLattice) - lx0 + 2;
    std::vector<double> lattice(static_cast<size_t>(lh * lw));
    for (int64_t a = 0; a < lh; a++)
      for (int64_t b = 0; b < lw; b++) lattice[a * lw + b] = Hash(ly0 + a, lx0 + b, 9, look.seed);
    std::vector<int> cellX(width);
    std::vector<double> weightX(width);
    for (int x = 0; x < width; x++) {
      const double g = (x0 + x) / kLattice;
      cellX[x] = static_cast<int>(Floor(g) - lx0);
      weightX[x] = Smooth(g - Floor(g));
    }
    for (int y = 0; y < height; y++) {
      const double g = (y0 + y) / kLattice;
      const int64_t cy = Floor(g) - ly0;
      const double sy = Smooth(g - Floor(g));
      const double* top = lattice.data() + cy * lw;
      const double* bottom = top + lw;
      double* row = tex.data() + static_cast<size_t>(y) * width;
      for (int x = 0; x < width; x++) {
        const int c = cellX[x];
        const double sx = weightX[x];
        row[x] += 0.25 * ((top[c] * (1 - sx) + top[c + 1] * sx) * (1 - sy) + (bottom[c] * (1 - sx) + bottom[c + 1] * sx) * sy);
      }
    }
  }
  // Illumination (a tilted plane times a vignette, per tile) and sensor noise.
  const std::vector<float>& normal = NormalTable();
  uint64_t state = look.noiseSeed, bits = 0;
  int left = 0;
  for (int y = 0; y < height; y++) {
    const double v = static_cast<double>(y) / height - 0.5;
    for (int x = 0; x < width; x++) {
      const double u = static_cast<double>(x) / width - 0.5;
      const double light = look.gain * (1 + look.gradientY * v + look.gradientX * u) * (1 - 0.3 * (u * u + v * v));
      if (left == 0) {
        bits = SplitMix(state);
        left = 4;
      }
      const double z = normal[bits & 0xffff];
      bits >>= 16;
      left--;
      const size_t k = static_cast<size_t>(y) * width + x;
      out[k] = (0.1 + tex[k]) * light + look.noise * z;
    }
  }
}

}  // namespace h5stitch::gen
