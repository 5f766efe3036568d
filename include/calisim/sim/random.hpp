#pragma once
// Named random streams derived from one run seed. Each component asks for its own stream by
// name ("tcp.isn", "link.loss/node1:eth0"), so adding a stream never shifts another one's draws:
// same seed, same scenario, same bytes.

#include <cmath>
#include <cstdint>
#include <string_view>

#include <calisim/sim/time.hpp>

namespace calisim {

// 64-bit FNV-1a, fixed forever: stream seeds must not change between releases.
constexpr std::uint64_t fnv1a64(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// SplitMix64 step (Steele, Lea, Flood 2014): the usual way to expand one seed into many words.
constexpr std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// xoshiro256** (Blackman & Vigna): fast, 256-bit state, good statistical quality.
class RandomStream {
 public:
  explicit RandomStream(std::uint64_t seed) {
    std::uint64_t sm = seed;
    for (auto& w : s_) w = splitmix64(sm);
  }
  RandomStream(std::uint64_t run_seed, std::string_view name)
      : RandomStream(run_seed ^ fnv1a64(name)) {}

  std::uint64_t next_u64() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  std::uint32_t next_u32() { return static_cast<std::uint32_t>(next_u64() >> 32); }

  // Uniform in [0, bound), unbiased (Lemire's multiply-shift with rejection). bound > 0.
  std::uint64_t uniform(std::uint64_t bound) {
    __extension__ using U128 = unsigned __int128;
    U128 m = static_cast<U128>(next_u64()) * bound;
    auto low = static_cast<std::uint64_t>(m);
    if (low < bound) {
      const std::uint64_t threshold = (0 - bound) % bound;
      while (low < threshold) {
        m = static_cast<U128>(next_u64()) * bound;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform01() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  bool bernoulli(double p) { return uniform01() < p; }
  double exponential(double mean) { return -mean * std::log1p(-uniform01()); }
  Duration exponential(Duration mean) {
    return Duration::nanoseconds(
        static_cast<std::int64_t>(exponential(static_cast<double>(mean.ns()))));
  }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace calisim
