#include <calisim/dataplane/encap.hpp>
#include <calisim/dataplane/ip_ident.hpp>
#include <calisim/wire/checksum.hpp>
#include <calisim/wire/icmp.hpp>
#include <calisim/wire/ipv4.hpp>

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace calisim::dataplane {
namespace {

using wire::Ipv4Address;
using wire::Ipv4Header;
using wire::Ipv4View;

// A pod's ICMP echo request as the worker forwards it into tunl0 (TTL already 63).
wire::Packet inner_echo(wire::PacketPool& pool, std::uint8_t tos, bool df, std::uint8_t ttl) {
  std::array<std::uint8_t, 56> data{};
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i);
  const auto icmp = wire::IcmpMessage::echo_request(0x1608, 1, data);
  Ipv4Header ip;
  ip.tos = tos;
  ip.total_length = static_cast<std::uint16_t>(20 + icmp.size());
  ip.identification = 0x0ae5;
  ip.dont_fragment = df;
  ip.ttl = ttl;
  ip.protocol = wire::IpProtocol::kIcmp;
  ip.source = Ipv4Address(192, 168, 102, 193);
  ip.destination = Ipv4Address(192, 168, 49, 69);
  wire::Packet p = pool.make(ip.total_length);
  ip.emit(p.bytes());
  icmp.emit(p.bytes().subspan(20));
  return p;
}

TEST(Ipip, OuterHeaderFollowsTunl0) {
  wire::PacketPool pool;
  wire::Packet p = inner_echo(pool, 0x00, true, 63);
  const std::vector<std::uint8_t> inner(p.data(), p.data() + p.size());
  ASSERT_TRUE(ipip_encapsulate(p, Ipv4Address(203, 248, 23, 215), Ipv4Address(203, 248, 23, 214),
                               0x1234));
  ASSERT_EQ(p.size(), inner.size() + kIpipOverhead);
  auto outer = Ipv4Header::parse(p.bytes());  // verifies the header checksum
  ASSERT_TRUE(outer.has_value()) << outer.error().message;
  EXPECT_EQ(outer->protocol, wire::IpProtocol::kIpip);
  EXPECT_EQ(outer->ttl, 63);  // "ttl inherit"
  EXPECT_TRUE(outer->dont_fragment);
  EXPECT_EQ(outer->tos, 0);
  EXPECT_EQ(outer->identification, 0x1234);
  EXPECT_EQ(outer->total_length, inner.size() + 20);
  EXPECT_EQ(outer->source, Ipv4Address(203, 248, 23, 215));
  EXPECT_EQ(outer->destination, Ipv4Address(203, 248, 23, 214));
  EXPECT_EQ(std::vector<std::uint8_t>(p.data() + 20, p.data() + p.size()), inner);
}

TEST(Ipip, DfIsCopiedAndEcnEncapsulatedButDscpIsNot) {
  wire::PacketPool pool;
  struct Case {
    std::uint8_t inner_tos;
    bool df;
    std::uint8_t outer_tos;
  };
  // DSCP 10 (0x28) is not copied by tunl0 (tos 0, no "inherit"); ECN is: ECT(1) stays ECT(1),
  // CE becomes ECT(0) (RFC 6040 normal mode, INET_ECN_encapsulate).
  for (const Case& c : {Case{0x28, false, 0x00}, Case{0x29, true, 0x01}, Case{0x2a, true, 0x02},
                        Case{0x2b, false, 0x02}}) {
    wire::Packet p = inner_echo(pool, c.inner_tos, c.df, 10);
    ASSERT_TRUE(ipip_encapsulate(p, Ipv4Address(10, 0, 0, 1), Ipv4Address(10, 0, 0, 2), 7));
    auto outer = Ipv4View::parse(p.bytes());
    ASSERT_TRUE(outer.has_value());
    EXPECT_EQ(outer->tos(), c.outer_tos) << "inner tos " << int(c.inner_tos);
    EXPECT_EQ(outer->dont_fragment(), c.df);
    EXPECT_EQ(outer->ttl(), 10);
  }
}

TEST(Ipip, DecapsulationRestoresTheInnerDatagramExactly) {
  wire::PacketPool pool;
  wire::Packet p = inner_echo(pool, 0x00, true, 63);
  const std::vector<std::uint8_t> inner(p.data(), p.data() + p.size());
  ASSERT_TRUE(ipip_encapsulate(p, Ipv4Address(10, 0, 0, 1), Ipv4Address(10, 0, 0, 2), 99));
  p.push_back(6);  // link padding after the outer datagram must not survive decapsulation
  auto outer = ipip_decapsulate(p);
  ASSERT_TRUE(outer.has_value()) << outer.error().message;
  EXPECT_EQ(outer->source, Ipv4Address(10, 0, 0, 1));
  EXPECT_EQ(std::vector<std::uint8_t>(p.data(), p.data() + p.size()), inner);
}

TEST(Ipip, DecapsulationRejectsWhatIsNotIpip) {
  wire::PacketPool pool;
  wire::Packet plain = inner_echo(pool, 0, true, 64);
  auto r = ipip_decapsulate(plain);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kMalformed);

  wire::Packet corrupt = inner_echo(pool, 0, true, 64);
  ASSERT_TRUE(ipip_encapsulate(corrupt, Ipv4Address(10, 0, 0, 1), Ipv4Address(10, 0, 0, 2), 1));
  corrupt.data()[8] ^= 0x10;  // outer TTL changed, checksum not
  r = ipip_decapsulate(corrupt);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kBadChecksum);

  wire::Packet truncated = inner_echo(pool, 0, true, 64);
  ASSERT_TRUE(ipip_encapsulate(truncated, Ipv4Address(10, 0, 0, 1), Ipv4Address(10, 0, 0, 2), 1));
  truncated.trim(30);
  r = ipip_decapsulate(truncated);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kTruncated);

  wire::Packet garbage = pool.make(3);
  EXPECT_FALSE(ipip_encapsulate(garbage, Ipv4Address(), Ipv4Address(), 0).has_value());
}

TEST(IpIdent, ConsecutiveWithinAJiffyAndJumpsAfterIdleTime) {
  IpIdentGenerator gen(RandomStream(5, "ident"));
  const Ipv4Address a(10, 0, 0, 1);
  const Ipv4Address b(10, 0, 0, 2);
  const Time t0 = Time::zero() + Duration::seconds(100);
  const std::uint16_t first = gen.next(a, b, 4, t0);
  EXPECT_EQ(gen.next(a, b, 4, t0), static_cast<std::uint16_t>(first + 1));
  EXPECT_EQ(gen.next(a, b, 4, t0 + Duration::milliseconds(1)), static_cast<std::uint16_t>(first + 2));
  // One second later (250 jiffies): the counter moves on by 1 + a random amount below 250.
  const std::uint16_t later = gen.next(a, b, 4, t0 + Duration::seconds(1));
  const auto step = static_cast<std::uint16_t>(later - first - 3);
  EXPECT_LT(step, 250);
}

TEST(IpIdent, SameSeedSameIds) {
  IpIdentGenerator x(RandomStream(9, "n1"));
  IpIdentGenerator y(RandomStream(9, "n1"));
  IpIdentGenerator z(RandomStream(10, "n1"));
  const Ipv4Address a(10, 0, 0, 1);
  const Ipv4Address b(10, 0, 0, 2);
  bool differs = false;
  for (int i = 0; i < 50; ++i) {
    const Time t = Time::zero() + Duration::milliseconds(37 * i);
    const auto vx = x.next(a, b, 17, t);
    EXPECT_EQ(vx, y.next(a, b, 17, t));
    differs |= vx != z.next(a, b, 17, t);
  }
  EXPECT_TRUE(differs);
}

}  // namespace
}  // namespace calisim::dataplane
