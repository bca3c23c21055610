// The blend accumulation kernel, free of JS: every strategy (and every rank count) adds a pixel's
// contributions through it, in canonical tile order, with the same IEEE double operations per
// pixel, so outputs are bit-identical however the canvas is cut.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/element.h"

namespace h5stitch::kernels {

enum class Blend { kLinear, kNone, kMax };

// A tile on the canvas, as packed by lib/blend.ts: [order, y, x, height, width].
struct Rect {
  int64_t order, y, x, height, width;
  bool CoversRow(int64_t row) const { return row >= y && row < y + height; }
};

// Canvas rows [y0, y1) x columns [x0, x1).
struct Region {
  int64_t y0, y1, x0, x1;
};

// One accumulate() call, checked (see blend_binding.cc) and reduced to plain pointers, so it may
// run on a worker thread while the main thread does HDF5/MPI I/O.
struct Job {
  void* acc;            // float or double, row-major, accWidth wide; acc[0] is canvas (accY0, accX0)
  Element accType;      // kFloat32 or kFloat64
  int64_t accWidth, accY0, accX0;
  Rect tile;
  std::vector<Rect> covering;  // every tile covering the region, in canonical order, `tile` among them
  const void* data;     // the tile's pixels of `r`, row-major
  Element dataType;
  Region r;
  Blend blend;
  // acc holds garbage wherever `tile` is the first covering tile (in canonical order) of a pixel;
  // those pixels are set as if acc were zero there, without being read or cleared first.
  bool fresh = false;
};

// Adds the job's data into its accumulator.
void Run(const Job& job);

// Run, for the job's rows in canvas rows [y0, y1) only. Each row is blended on its own, so a job
// run in pieces of rows gives the same bits as run whole.
void RunRows(const Job& job, int64_t y0, int64_t y1);

// Zeroes the pixels of accumulator rows [rowFrom, rowTo) (of jobs[0]'s accumulator) that no job's
// region covers; fresh jobs set the others.
void ZeroUncovered(const std::vector<Job>& jobs, int64_t rowFrom, int64_t rowTo);

}  // namespace h5stitch::kernels
