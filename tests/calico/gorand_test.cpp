// Go math/rand, math/big Int.Rand and hash/fnv against values Go itself published or printed.
// Every expected number below comes from Go (its regression tables) or from real Calico
// clusters; none is our own output.

#include <calisim/calico/gorand.hpp>

#include <array>
#include <cstdint>

#include <gtest/gtest.h>

namespace calisim::calico {
namespace {

// clang-format off
// Go src/math/rand/regress_test.go, regressGolden: r := New(NewSource(0)); each method is
// re-seeded with r.Seed(0) and called 20 times with the arguments of int64s/int32s in turn.
constexpr std::array<std::int64_t, 20> kGoldenInt63 = {
    8717895732742165505, 2259404117704393152, 6050128673802995827, 501233450539197794,
    3390393562759376202, 2669985732393126063, 1774932891286980153, 6044372234677422456,
    8274930044578894929, 1543572285742637646, 2661732831099943416, 8325060299420976708,
    7837839688282259259, 2518412263346885298, 5617773211005988520, 2339563716805116249,
    7144924247938981575, 161231572858529631,  7259475919510918339, 7373105480197164748};

constexpr std::array<std::uint64_t, 20> kGoldenUint64 = {
    8717895732742165505u,  2259404117704393152u,  6050128673802995827u,  9724605487393973602u,
    12613765599614152010u, 11893357769247901871u, 1774932891286980153u,  15267744271532198264u,
    17498302081433670737u, 1543572285742637646u,  11885104867954719224u, 17548432336275752516u,
    7837839688282259259u,  2518412263346885298u,  5617773211005988520u,  11562935753659892057u,
    16368296284793757383u, 161231572858529631u,   16482847956365694147u, 16596477517051940556u};

constexpr std::array<std::uint32_t, 20> kGoldenUint32 = {
    4059586549u, 1052117029u, 2817310706u, 233405013u,  1578775030u, 1243308993u, 826517535u,
    2814630155u, 3853314576u, 718781857u,  1239465936u, 3876658295u, 3649778518u, 1172727096u,
    2615979505u, 1089444252u, 3327114623u, 75079301u,   3380456901u, 3433369789u};

constexpr std::array<std::int32_t, 20> kGoldenInt31 = {
    2029793274, 526058514,  1408655353, 116702506,  789387515,  621654496, 413258767,
    1407315077, 1926657288, 359390928,  619732968,  1938329147, 1824889259, 586363548,
    1307989752, 544722126,  1663557311, 37539650,   1690228450, 1716684894};

// The argument lists of TestRegress.
constexpr std::array<std::int64_t, 13> kInt64s = {
    1, 10, 32, 1 << 20, (1 << 20) + 1, 1000000000, 1 << 30, (std::int64_t{1} << 31) - 2,
    (std::int64_t{1} << 31) - 1, 1000000000000000000, std::int64_t{1} << 60,
    static_cast<std::int64_t>((std::uint64_t{1} << 63) - 2),
    static_cast<std::int64_t>((std::uint64_t{1} << 63) - 1)};
constexpr std::array<std::int32_t, 9> kInt32s = {
    1, 10, 32, 1 << 20, (1 << 20) + 1, 1000000000, 1 << 30, 2147483646, 2147483647};

constexpr std::array<std::int64_t, 20> kGoldenInt63n = {
    0, 2, 19, 959842, 688912, 393126063, 89212473, 834026388, 1577188963, 543572285742637646,
    355889821886249464, 8325060299420976708, 7837839688282259259, 0, 0, 25, 679623, 882178,
    510918339, 782454476};
constexpr std::array<std::int32_t, 20> kGoldenInt31n = {
    0, 4, 25, 310570, 857611, 621654496, 413258767, 1407315077, 1926657288, 0,
    8, 27, 367019, 209005, 307989752, 544722126, 1663557311, 37539650, 0, 4};
constexpr std::array<std::int64_t, 20> kGoldenIntn = {
    0, 4, 25, 310570, 857611, 621654496, 413258767, 1407315077, 1926657288, 543572285742637646,
    355889821886249464, 8325060299420976708, 7837839688282259259, 0, 2, 14, 515775, 839455,
    690228450, 642943070};
// clang-format on

TEST(GoRand, Int63MatchesGoRegressGoldenSeed0) {
  GoRand r(0);
  for (std::size_t i = 0; i < kGoldenInt63.size(); ++i) {
    EXPECT_EQ(r.int63(), kGoldenInt63[i]) << i;
  }
}

TEST(GoRand, Uint64KeepsTheTopBitGoldenSeed0) {
  GoRand r(0);
  for (std::size_t i = 0; i < kGoldenUint64.size(); ++i) {
    EXPECT_EQ(r.uint64(), kGoldenUint64[i]) << i;
  }
}

TEST(GoRand, Uint32AndInt31GoldenSeed0) {
  GoRand r(0);
  for (std::size_t i = 0; i < kGoldenUint32.size(); ++i) {
    EXPECT_EQ(r.uint32(), kGoldenUint32[i]) << i;
  }
  r.seed_with(0);  // Rand.Seed(0) restarts the stream, as the regression test does per method
  for (std::size_t i = 0; i < kGoldenInt31.size(); ++i) {
    EXPECT_EQ(r.int31(), kGoldenInt31[i]) << i;
  }
}

TEST(GoRand, Int63nInt31nIntnGoldenSeed0) {
  GoRand r(0);
  for (std::size_t i = 0; i < kGoldenInt63n.size(); ++i) {
    EXPECT_EQ(r.int63n(kInt64s[i % kInt64s.size()]), kGoldenInt63n[i]) << i;
  }
  r.seed_with(0);
  for (std::size_t i = 0; i < kGoldenInt31n.size(); ++i) {
    EXPECT_EQ(r.int31n(kInt32s[i % kInt32s.size()]), kGoldenInt31n[i]) << i;
  }
  r.seed_with(0);
  for (std::size_t i = 0; i < kGoldenIntn.size(); ++i) {
    EXPECT_EQ(r.intn(kInt64s[i % kInt64s.size()]), kGoldenIntn[i]) << i;
  }
}

// rand.New(rand.NewSource(1)).Int63(), the stream every pre-1.20 Go program saw by default
// (calico.md §2.2a records the same three values).
TEST(GoRand, Seed1IsGoDefaultStream) {
  GoRand r(1);
  EXPECT_EQ(r.int63(), 5577006791947779410);
  EXPECT_EQ(r.int63(), 8674665223082153551);
  EXPECT_EQ(r.int63(), 6129484611666145821);
}

// Seeds equal modulo 2³¹-1 give the same stream (rng.go Seed: seed %= _M; 0 -> 89482311).
TEST(GoRand, SeedIsReducedModuloMersennePrime) {
  GoRand a(0);
  GoRand b((std::int64_t{1} << 31) - 1);
  GoRand c(89482311);
  for (int i = 0; i < 5; ++i) {
    const auto x = a.int63();
    EXPECT_EQ(b.int63(), x);
    EXPECT_EQ(c.int63(), x);
  }
  GoRand neg(-1);  // -1 mod M is M-1, not 1
  GoRand one(1);
  EXPECT_NE(neg.int63(), one.int63());
}

// hash/fnv New32 is FNV-1 (multiply then xor). The FNV-1 32-bit test vectors of
// draft-eastlake-fnv (and Go's fnv_test.go golden32): "" -> 0x811c9dc5, "a" -> 0x050c5d7e,
// "ab" -> 0x70772d38, "abc" -> 0x439c2f4b.
TEST(GoRand, Fnv1MatchesGoHashFnvNew32) {
  EXPECT_EQ(go_fnv1_32(""), 0x811c9dc5u);
  EXPECT_EQ(go_fnv1_32("a"), 0x050c5d7eu);
  EXPECT_EQ(go_fnv1_32("ab"), 0x70772d38u);
  EXPECT_EQ(go_fnv1_32("abc"), 0x439c2f4bu);
}

// big.Int.Rand draws whole words (low Uint32, then high Uint32) and keeps bitLen(limit) bits of
// the top word. Go's seed-0 Uint32 stream is [4059586549, 1052117029, 2817310706, 233405013,
// 1578775030, ...]: the words' low halves are 4059586549, 2817310706, 1578775030.
TEST(GoRand, BigIntRandPowerOfTwoDrawsTwoUint32PerWord) {
  // limit 1024 (11 bits, mask 2047): 4059586549 & 2047 = 2037 and 2817310706 & 2047 = 2034 are
  // rejected, 1578775030 & 2047 = 502 is taken; six Uint32s are consumed.
  GoRand r(0);
  EXPECT_EQ(go_big_int_rand(r, 1024), kGoldenUint32[4] & 2047u);
  EXPECT_EQ(r.uint32(), kGoldenUint32[6]);  // the high half of each word was drawn too
}

TEST(GoRand, BigIntRandRejectsAndRetries) {
  // limit 600 (10 bits, mask 1023): 4059586549 & 1023 = 1013 is rejected, then
  // 2817310706 & 1023 = 1010 too, then 1578775030 & 1023 = 502 is taken.
  GoRand r(0);
  EXPECT_EQ(go_big_int_rand(r, 600), kGoldenUint32[4] & 1023u);
  EXPECT_EQ(r.uint32(), kGoldenUint32[6]);
  // limit 500 (9 bits, mask 511): 4059586549 & 511 = 501 is rejected, 498 is taken.
  GoRand s(0);
  EXPECT_EQ(go_big_int_rand(s, 500), kGoldenUint32[2] & 511u);
  GoRand t(0);
  EXPECT_EQ(go_big_int_rand(t, 0), 0u);
  EXPECT_EQ(t.uint32(), kGoldenUint32[0]);  // nothing drawn for a zero limit
}

}  // namespace
}  // namespace calisim::calico
