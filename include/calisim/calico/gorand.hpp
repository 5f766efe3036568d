#pragma once
// The pieces of Go's standard library that Calico's IPAM block choice depends on, reproduced
// bit for bit so a simulated node claims the same /26 a real one would:
//   - hash/fnv New32 (FNV-1, 32-bit), which seeds the generator from the node name;
//   - math/rand's rngSource (Mitchell & Reeds' additive lagged Fibonacci generator, length 607,
//     tap 273, seeded through seedrand's x·48271 mod 2³¹-1) with the Rand methods built on it;
//   - math/big's (*Int).Rand, which picks the starting block index.
// References: Go src/math/rand/rng.go (Seed, Int63, Uint64), src/math/rand/rand.go (Uint32, Int31,
// Int63n, Int31n, Intn), src/math/big/int.go (Int.Rand) and nat.go (nat.random),
// src/hash/fnv/fnv.go (sum32.Write); Calico libcalico-go/lib/ipam/ipam_block_reader_writer.go
// (determineSeed, randomBlockGenerator).

#include <array>
#include <cstdint>
#include <string_view>

namespace calisim::calico {

// hash/fnv New32: FNV-1 (multiply, then xor), offset basis 2166136261, prime 16777619.
constexpr std::uint32_t go_fnv1_32(std::string_view data) {
  std::uint32_t h = 2166136261u;
  for (char c : data) {
    h *= 16777619u;
    h ^= static_cast<unsigned char>(c);
  }
  return h;
}

// rand.New(rand.NewSource(seed)) on a 64-bit platform (Go's int is 64 bits wide). Not safe to
// share between threads; cheap to copy (one 607-word state).
class GoRand {
 public:
  static constexpr int kLength = 607;  // rng.go _LEN
  static constexpr int kTap = 273;     // rng.go _TAP

  explicit GoRand(std::int64_t seed) { seed_with(seed); }

  // rngSource.Seed: seed mod 2³¹-1 (0 becomes 89482311), then the seedrand warm-up.
  void seed_with(std::int64_t seed);

  std::uint64_t uint64();  // rngSource.Uint64 (Source64)
  std::int64_t int63() {   // rngSource.Int63
    return static_cast<std::int64_t>(uint64() & kMask63);
  }
  std::uint32_t uint32() {  // Rand.Uint32: the top 32 of 63 bits
    return static_cast<std::uint32_t>(int63() >> 31);
  }
  std::int32_t int31() {  // Rand.Int31
    return static_cast<std::int32_t>(int63() >> 32);
  }
  std::int64_t int63n(std::int64_t n);  // Rand.Int63n, n > 0 (aborts otherwise, as Go panics)
  std::int32_t int31n(std::int32_t n);  // Rand.Int31n, n > 0
  std::int64_t intn(std::int64_t n);    // Rand.Intn with a 64-bit int

 private:
  static constexpr std::uint64_t kMask63 = (std::uint64_t{1} << 63) - 1;
  int tap_ = 0;
  int feed_ = 0;
  std::array<std::uint64_t, kLength> vec_{};
};

// (*big.Int).Rand(rnd, limit) for a limit that fits one 64-bit word (every IPv4 block count
// does): each try draws one word as Uint32() | Uint32()<<32, masks it to bitLen(limit) bits and
// retries while it is >= limit. limit 0 gives 0 without drawing, as Go does.
std::uint64_t go_big_int_rand(GoRand& rng, std::uint64_t limit);

}  // namespace calisim::calico
