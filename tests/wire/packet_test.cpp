#include <calisim/wire/packet.hpp>

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

namespace calisim::wire {
namespace {

TEST(Packet, HasHeadroomForEncapsulation) {
  PacketPool pool;
  Packet p = pool.make(84);
  EXPECT_EQ(p.size(), 84u);
  EXPECT_EQ(p.headroom(), PacketPool::kHeadroom);
  std::iota(p.data(), p.data() + p.size(), std::uint8_t{0});
  const std::uint8_t* inner = p.data();
  // IPIP (20) + VXLAN's IP/UDP/VXLAN/Ethernet (50) + an outer Ethernet (14): a pointer move.
  auto outer = p.push_front(20);
  EXPECT_EQ(outer.data() + 20, inner);
  p.push_front(50);
  p.push_front(14);
  EXPECT_EQ(p.size(), 84u + 84u);
  EXPECT_EQ(p.data() + 84, inner);
  p.pull_front(84);
  EXPECT_EQ(p.data(), inner);
  EXPECT_EQ(p.data()[5], 5);
}

TEST(Packet, GrowsWhenHeadroomRunsOut) {
  PacketPool pool;
  Packet p = pool.make(10);
  for (std::size_t i = 0; i < 10; ++i) p.data()[i] = static_cast<std::uint8_t>(100 + i);
  p.push_front(PacketPool::kHeadroom + 6);  // more than there is
  EXPECT_EQ(p.size(), 10u + PacketPool::kHeadroom + 6);
  EXPECT_GE(p.headroom(), PacketPool::kHeadroom);
  for (std::size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(p.data()[PacketPool::kHeadroom + 6 + i], 100 + i);
  }
}

TEST(Packet, GrowsAtTheTailIntoTheLargeClass) {
  PacketPool pool;
  Packet p = pool.make(1500);
  p.data()[0] = 0xab;
  p.data()[1499] = 0xcd;
  auto more = p.push_back(20000);
  EXPECT_EQ(more.size(), 20000u);
  EXPECT_EQ(p.size(), 21500u);
  EXPECT_EQ(p.data()[0], 0xab);
  EXPECT_EQ(p.data()[1499], 0xcd);
  p.trim(100);
  EXPECT_EQ(p.size(), 100u);
}

TEST(Packet, MoveLeavesTheSourceEmptyAndMetadataTravels) {
  PacketPool pool;
  Packet a = pool.make(60);
  a.meta.mark = 0x100000;
  a.meta.trace_id = 42;
  Packet b = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_EQ(b.size(), 60u);
  EXPECT_EQ(b.meta.mark, 0x100000u);
  Packet c = b.clone();
  EXPECT_EQ(c.meta.trace_id, 42u);
  EXPECT_NE(c.data(), b.data());
  EXPECT_EQ(pool.outstanding(), 2u);
}

TEST(PacketPool, RecyclesBuffersInsteadOfAllocating) {
  PacketPool pool;
  {
    std::vector<Packet> held;
    for (int i = 0; i < 64; ++i) held.push_back(pool.make(1500));
  }
  const std::size_t allocated = pool.allocated();
  EXPECT_EQ(allocated, 64u);
  EXPECT_EQ(pool.outstanding(), 0u);
  for (int round = 0; round < 1000; ++round) {
    std::vector<Packet> held;
    for (int i = 0; i < 64; ++i) held.push_back(pool.make(static_cast<std::size_t>(i * 20)));
  }
  EXPECT_EQ(pool.allocated(), allocated);  // steady state: no new buffers
  EXPECT_EQ(pool.outstanding(), 0u);
}

TEST(PacketPool, CopiesBytes) {
  PacketPool pool;
  const std::vector<std::uint8_t> bytes = {1, 2, 3, 4, 5};
  Packet p = pool.make_copy(bytes);
  EXPECT_EQ(std::vector<std::uint8_t>(p.data(), p.data() + p.size()), bytes);
}

}  // namespace
}  // namespace calisim::wire
