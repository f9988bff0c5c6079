// Build-wide switches shared by host and device code.
#pragma once

// Functions marked PGPS_HD compile for both the host and a CUDA device, so the CPU tests cover
// the index math the GPU kernels run.
#if defined(__CUDACC__)
#define PGPS_HD __host__ __device__
#else
#define PGPS_HD
#endif

namespace pgps {
inline constexpr int version_major = 0;
inline constexpr int version_minor = 1;
inline constexpr int version_patch = 0;
}  // namespace pgps
