#include <calisim/sim/random.hpp>
#include <calisim/sim/simulator.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace calisim {
namespace {

TEST(Random, Fnv1a64KnownVectors) {
  // Published FNV-1a 64 test vectors (Fowler/Noll/Vo reference test suite).
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(Random, SplitMix64KnownVector) {
  // Reference implementation (Vigna, splitmix64.c) seeded with 0: first output.
  std::uint64_t state = 0;
  EXPECT_EQ(splitmix64(state), 0xe220a8397b1dcdafULL);
}

TEST(Random, SameSeedAndNameGiveTheSameStream) {
  Simulator a(7);
  Simulator b(7);
  RandomStream x = a.random("tcp.isn");
  RandomStream y = b.random("tcp.isn");
  for (int i = 0; i < 100; ++i) EXPECT_EQ(x.next_u64(), y.next_u64());
}

TEST(Random, NamesAndSeedsSeparateStreams) {
  RandomStream a(7, "tcp.isn");
  RandomStream b(7, "link.loss");
  RandomStream c(8, "tcp.isn");
  const auto va = a.next_u64();
  EXPECT_NE(va, b.next_u64());
  EXPECT_NE(va, c.next_u64());
}

TEST(Random, UniformStaysInRangeAndCoversIt) {
  RandomStream r(1, "t");
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 10000; ++i) {
    const auto v = r.uniform(7);
    ASSERT_LT(v, 7u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 7u);
  for (int i = 0; i < 10000; ++i) {
    const double u = r.uniform01();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(Random, ExponentialHasTheRequestedMean) {
  RandomStream r(3, "exp");
  double sum = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) sum += r.exponential(5.0);
  EXPECT_NEAR(sum / n, 5.0, 0.1);
}

}  // namespace
}  // namespace calisim
