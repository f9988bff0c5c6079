// Counter-based random numbers: every draw is a pure function of where it is used, never of
// call order or thread count. Philox4x32-10 (Salmon et al., SC'11), usable on host and device.
#pragma once

#include <cstdint>

#include "pgps/core/config.hpp"

namespace pgps {

// Where a random choice is made. Batch plans key their draws by the *global* slot of the batch
// and leave rank at 0, so a plan is the same on 1 or 8 ranks; the rank field is for streams that
// are meant to differ per rank (a host's augmentation, say).
struct counter {
  std::uint64_t seed = 0;
  std::uint64_t epoch = 0;
  std::uint64_t iteration = 0;
  std::uint32_t rank = 0;
  std::uint32_t slot = 0;
};

// Separates independent uses of the same counter (the box of a slot vs. the random schedule's
// patch draw), so they never share numbers.
enum class stream_purpose : std::uint32_t {
  sampling = 0,
  schedule = 1,
  augmentation = 2,
  user = 1000,
};

namespace detail {
PGPS_HD constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

PGPS_HD constexpr void mulhilo32(std::uint32_t a, std::uint32_t b, std::uint32_t& hi, std::uint32_t& lo) {
  const std::uint64_t product = static_cast<std::uint64_t>(a) * b;
  hi = static_cast<std::uint32_t>(product >> 32);
  lo = static_cast<std::uint32_t>(product);
}
}  // namespace detail

struct philox4x32_block {
  std::uint32_t v[4];
};

// Ten rounds of Philox4x32 on a 128-bit counter with a 64-bit key.
PGPS_HD constexpr philox4x32_block philox4x32_10(philox4x32_block ctr, std::uint32_t key0,
                                                 std::uint32_t key1) {
  constexpr std::uint32_t m0 = 0xD2511F53u, m1 = 0xCD9E8D57u;
  constexpr std::uint32_t w0 = 0x9E3779B9u, w1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    std::uint32_t hi0 = 0, lo0 = 0, hi1 = 0, lo1 = 0;
    detail::mulhilo32(m0, ctr.v[0], hi0, lo0);
    detail::mulhilo32(m1, ctr.v[2], hi1, lo1);
    ctr = {{hi1 ^ ctr.v[1] ^ key0, lo1, hi0 ^ ctr.v[3] ^ key1, lo0}};
    key0 += w0;
    key1 += w1;
  }
  return ctr;
}

// The draws of one counter: a finite-looking, endless sequence of 32-bit words. Key = hash of
// (seed, rank, purpose); counter words = (epoch, iteration, slot, block number).
class random_stream {
 public:
  PGPS_HD constexpr explicit random_stream(const counter& c,
                                           stream_purpose purpose = stream_purpose::sampling)
      : key_(detail::splitmix64(c.seed ^ detail::splitmix64((static_cast<std::uint64_t>(c.rank) << 32) |
                                                            static_cast<std::uint32_t>(purpose)))),
        epoch_(static_cast<std::uint32_t>(c.epoch ^ (c.epoch >> 32))),
        iteration_(static_cast<std::uint32_t>(c.iteration ^ (c.iteration >> 32))),
        slot_(c.slot) {}

  PGPS_HD constexpr std::uint32_t next_u32() {
    if (used_ == 4) refill();
    return block_.v[used_++];
  }
  PGPS_HD constexpr std::uint64_t next_u64() {
    const std::uint64_t hi = next_u32();
    return (hi << 32) | next_u32();
  }
  // Uniform in [0, 1) with 53 random bits.
  PGPS_HD constexpr double uniform01() {
    return static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0);
  }
  // Uniform integer in [0, n), n >= 1, without modulo bias (rejection on the 64-bit draw).
  PGPS_HD constexpr std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % n);
    std::uint64_t draw = next_u64();
    while (draw >= limit) draw = next_u64();
    return draw % n;
  }
  // Uniform integer in [lo, hi], inclusive; lo <= hi.
  PGPS_HD constexpr std::int64_t uniform_int(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo) + 1));
  }

 private:
  PGPS_HD constexpr void refill() {
    block_ = philox4x32_10({{epoch_, iteration_, slot_, block_number_++}}, static_cast<std::uint32_t>(key_),
                           static_cast<std::uint32_t>(key_ >> 32));
    used_ = 0;
  }

  std::uint64_t key_;
  std::uint32_t epoch_;
  std::uint32_t iteration_;
  std::uint32_t slot_;
  std::uint32_t block_number_ = 0;
  philox4x32_block block_{{0, 0, 0, 0}};
  int used_ = 4;
};

}  // namespace pgps
