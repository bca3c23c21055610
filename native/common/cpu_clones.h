// Hot loops compiled twice, for AVX2 and for any x86-64, the one to run picked when the addon
// loads (the prebuilt addon must run everywhere). Each clone does the same IEEE operations in the
// same order (no FMA: -ffp-contract=off on the kernels), so both give the same bits.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#define H5STITCH_AVX2_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define H5STITCH_AVX2_CLONES
#endif
