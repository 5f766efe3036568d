#include <calisim/dataplane/tcp_buffers.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <numeric>
#include <vector>

namespace calisim::dataplane {
namespace {

std::vector<std::uint8_t> iota_bytes(std::size_t n, std::uint8_t first = 0) {
  std::vector<std::uint8_t> v(n);
  std::iota(v.begin(), v.end(), first);
  return v;
}

TEST(TcpSendBuffer, WritesUpToCapacityAndWrapsAround) {
  TcpSendBuffer buf(10);
  const auto data = iota_bytes(16);
  EXPECT_EQ(buf.write(wire::Bytes(data).first(6)), 6u);
  buf.consume(4);  // front now at ring index 4
  EXPECT_EQ(buf.write(wire::Bytes(data).subspan(6)), 8u);  // only 8 of 10 fit
  EXPECT_EQ(buf.size(), 10u);
  EXPECT_EQ(buf.free(), 0u);
  std::array<std::uint8_t, 10> scratch{};
  const wire::Bytes all = buf.peek(0, 10, scratch);
  EXPECT_EQ(std::vector<std::uint8_t>(all.begin(), all.end()),
            std::vector<std::uint8_t>(data.begin() + 4, data.begin() + 14));
  EXPECT_EQ(all.data(), scratch.data());  // wrapped: copied
  const wire::Bytes front = buf.peek(1, 3, scratch);
  EXPECT_NE(front.data(), scratch.data());  // contiguous: a view into the ring
  EXPECT_EQ(front[0], 5);
}

TEST(TcpReceiveBuffer, ReassemblesOutOfOrderRanges) {
  TcpReceiveBuffer buf(100);
  const auto data = iota_bytes(40);
  const wire::Bytes d(data);
  auto r = buf.insert(20, d.subspan(20, 10));  // [20,30)
  EXPECT_TRUE(r.stored);
  EXPECT_EQ(r.advanced, 0u);
  EXPECT_EQ(buf.out_of_order_ranges(), 1u);
  r = buf.insert(5, d.subspan(5, 5));  // [5,10)
  EXPECT_EQ(buf.out_of_order_ranges(), 2u);
  r = buf.insert(8, d.subspan(8, 14));  // [8,22) joins both
  EXPECT_EQ(buf.out_of_order_ranges(), 1u);
  EXPECT_EQ(buf.readable(), 0u);
  r = buf.insert(0, d.first(5));  // fills the hole: [0,30) in order
  EXPECT_EQ(r.advanced, 30u);
  EXPECT_FALSE(buf.has_out_of_order());
  std::vector<std::uint8_t> out(64);
  EXPECT_EQ(buf.read(out), 30u);
  EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.begin() + 30),
            std::vector<std::uint8_t>(data.begin(), data.begin() + 30));
  EXPECT_EQ(buf.free(), 100u);
}

TEST(TcpReceiveBuffer, WrapsAndRefusesARangeBeyondTheLimit) {
  TcpReceiveBuffer buf(8);
  const auto data = iota_bytes(20);
  const wire::Bytes d(data);
  ASSERT_EQ(buf.insert(0, d.first(6)).advanced, 6u);
  std::vector<std::uint8_t> out(4);
  ASSERT_EQ(buf.read(out), 4u);
  ASSERT_EQ(buf.insert(0, d.subspan(6, 6)).advanced, 6u);  // wraps in the ring
  std::vector<std::uint8_t> rest(8);
  ASSERT_EQ(buf.read(rest), 8u);
  EXPECT_EQ(std::vector<std::uint8_t>(rest.begin(), rest.end()),
            std::vector<std::uint8_t>(data.begin() + 4, data.begin() + 12));

  TcpReceiveBuffer many(4 * TcpReceiveBuffer::kMaxRanges + 8);
  const auto one = iota_bytes(1);
  for (std::size_t i = 0; i < TcpReceiveBuffer::kMaxRanges; ++i) {
    ASSERT_TRUE(many.insert(2 + 2 * i, one).stored);
  }
  EXPECT_FALSE(many.insert(2 + 2 * TcpReceiveBuffer::kMaxRanges, one).stored);
  EXPECT_TRUE(many.insert(3, one).stored);  // merges two ranges: no new slot needed
  EXPECT_EQ(many.out_of_order_ranges(), TcpReceiveBuffer::kMaxRanges - 1);
}

// The storage grows on demand (doubling, up to the capacity) while bytes sit wrapped around the
// end of the smaller ring: the stream survives the move byte for byte.
TEST(TcpSendBuffer, StorageGrowsOnDemandKeepingWrappedBytes) {
  TcpSendBuffer buf(64 * 1024);
  EXPECT_EQ(buf.storage(), 0u);
  const auto stream = iota_bytes(20000, 7);
  const wire::Bytes s(stream);
  ASSERT_EQ(buf.write(s.first(3000)), 3000u);
  EXPECT_EQ(buf.storage(), 4096u);
  buf.consume(2500);
  ASSERT_EQ(buf.write(s.subspan(3000, 3000)), 3000u);  // wraps inside 4096 bytes
  EXPECT_EQ(buf.storage(), 4096u);
  ASSERT_EQ(buf.write(s.subspan(6000, 10000)), 10000u);  // needs 13500: grows
  EXPECT_EQ(buf.storage(), 13500u);
  EXPECT_EQ(buf.size(), 13500u);
  std::vector<std::uint8_t> scratch(13500);
  const wire::Bytes all = buf.peek(0, 13500, scratch);
  EXPECT_TRUE(std::equal(all.begin(), all.end(), stream.begin() + 2500));
  EXPECT_EQ(buf.free(), 64u * 1024 - 13500);
}

TEST(TcpReceiveBuffer, StorageGrowsOnDemandKeepingWrappedAndOutOfOrderBytes) {
  TcpReceiveBuffer buf(64 * 1024);
  EXPECT_EQ(buf.storage(), 0u);
  const auto stream = iota_bytes(10000, 3);
  const wire::Bytes s(stream);
  std::vector<std::uint8_t> out(10000);
  ASSERT_EQ(buf.insert(0, s.first(3000)).advanced, 3000u);
  EXPECT_EQ(buf.storage(), 4096u);
  ASSERT_EQ(buf.read(wire::MutableBytes(out).first(3000)), 3000u);
  ASSERT_EQ(buf.insert(0, s.subspan(3000, 3000)).advanced, 3000u);  // positions wrap
  ASSERT_EQ(buf.read(wire::MutableBytes(out).first(1000)), 1000u);  // read_ = 4000
  // Out of order at positions [8000, 9000): 5000 past read_, beyond 4096 bytes of storage.
  auto r = buf.insert(2000, s.subspan(8000, 1000));
  EXPECT_TRUE(r.stored);
  EXPECT_EQ(r.advanced, 0u);
  EXPECT_EQ(buf.storage(), 8192u);
  EXPECT_EQ(buf.insert(0, s.subspan(6000, 2000)).advanced, 3000u);  // fills the hole
  ASSERT_EQ(buf.read(out), 5000u);
  EXPECT_TRUE(std::equal(out.begin(), out.begin() + 5000, stream.begin() + 4000));
  EXPECT_EQ(buf.free(), 64u * 1024);
}

}  // namespace
}  // namespace calisim::dataplane
