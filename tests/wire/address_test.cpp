#include <calisim/wire/address.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include <fmt/format.h>

namespace calisim::wire {
namespace {

TEST(AddressIpv4, ParsesDottedQuad) {
  auto a = Ipv4Address::parse("10.99.0.1");
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_EQ(a->value(), 0x0a630001u);
  EXPECT_EQ(*a, Ipv4Address(10, 99, 0, 1));
  EXPECT_EQ(a->octets(), (std::array<std::uint8_t, 4>{10, 99, 0, 1}));
  EXPECT_EQ(Ipv4Address::parse("0.0.0.0")->value(), 0u);
  EXPECT_EQ(Ipv4Address::parse("255.255.255.255")->value(), 0xffffffffu);
  EXPECT_EQ(Ipv4Address::parse("192.168.1.254")->value(), 0xc0a801feu);
}

TEST(AddressIpv4, FormatRoundTrips) {
  for (std::string_view text :
       {"0.0.0.0", "10.99.0.66", "169.254.1.1", "255.255.255.255", "1.2.3.4", "100.64.0.10"}) {
    auto a = Ipv4Address::parse(text);
    ASSERT_TRUE(a.has_value()) << text;
    EXPECT_EQ(a->to_string(), text);
    EXPECT_EQ(fmt::format("{}", *a), text);
  }
}

TEST(AddressIpv4, RejectsMalformedText) {
  for (std::string_view text :
       {"", "1.2.3", "1.2.3.", "1.2.3.4.", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "1..2.3",
        ".1.2.3", "a.b.c.d", "1.2.3.-4", "+1.2.3.4", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4/24",
        "0x1.2.3.4", "1234.1.1.1", "10", "::1",
        // Leading zeros: inet_aton() reads them as octal, Go and glibc inet_pton() reject them.
        "010.0.0.1", "1.2.3.04", "00.0.0.0"}) {
    auto a = Ipv4Address::parse(text);
    ASSERT_FALSE(a.has_value()) << "accepted '" << text << "'";
    EXPECT_EQ(a.error().code, Errc::kInvalidArgument) << text;
    EXPECT_NE(a.error().message.find(std::string(text)), std::string::npos) << a.error().message;
  }
}

TEST(AddressIpv4, ClassifiesSpecialRanges) {
  EXPECT_TRUE(Ipv4Address(0, 0, 0, 0).is_unspecified());
  EXPECT_FALSE(Ipv4Address(0, 0, 0, 1).is_unspecified());
  EXPECT_TRUE(Ipv4Address(127, 0, 0, 1).is_loopback());
  EXPECT_TRUE(Ipv4Address(127, 255, 255, 254).is_loopback());
  EXPECT_FALSE(Ipv4Address(128, 0, 0, 1).is_loopback());
  EXPECT_TRUE(Ipv4Address(224, 0, 0, 5).is_multicast());
  EXPECT_TRUE(Ipv4Address(239, 255, 255, 255).is_multicast());
  EXPECT_FALSE(Ipv4Address(240, 0, 0, 1).is_multicast());
  EXPECT_FALSE(Ipv4Address(223, 255, 255, 255).is_multicast());
  EXPECT_TRUE(Ipv4Address(255, 255, 255, 255).is_broadcast());
  EXPECT_TRUE(Ipv4Address(169, 254, 1, 1).is_link_local());  // Calico's 169.254.1.1 gateway
  EXPECT_FALSE(Ipv4Address(169, 253, 1, 1).is_link_local());
}

TEST(AddressIpv4, OrdersByNumericValue) {
  EXPECT_LT(Ipv4Address(9, 255, 255, 255), Ipv4Address(10, 0, 0, 0));
  EXPECT_LT(Ipv4Address(10, 0, 0, 2), Ipv4Address(10, 0, 0, 10));  // not text order
}

TEST(AddressIpv4Prefix, ParsesAndKeepsHostBits) {
  auto p = Ipv4Prefix::parse("10.0.0.5/24");
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->address(), Ipv4Address(10, 0, 0, 5));
  EXPECT_EQ(p->length(), 24);
  EXPECT_EQ(p->mask(), 0xffffff00u);
  EXPECT_EQ(p->network(), Ipv4Address(10, 0, 0, 0));
  EXPECT_EQ(p->broadcast(), Ipv4Address(10, 0, 0, 255));
  EXPECT_EQ(p->to_string(), "10.0.0.5/24");  // as `ip addr` shows it
  EXPECT_EQ(fmt::format("{}", *p), "10.0.0.5/24");
}

TEST(AddressIpv4Prefix, BareAddressIsSlash32) {
  auto p = Ipv4Prefix::parse("10.99.0.1");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->length(), 32);
  EXPECT_EQ(p->mask(), 0xffffffffu);
  EXPECT_EQ(p->to_string(), "10.99.0.1/32");
}

TEST(AddressIpv4Prefix, EdgeLengths) {
  auto all = Ipv4Prefix::parse("0.0.0.0/0");
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->mask(), 0u);  // no shift by 32 (undefined behaviour) for /0
  EXPECT_TRUE(all->contains(Ipv4Address(255, 1, 2, 3)));
  EXPECT_EQ(all->broadcast(), Ipv4Address(255, 255, 255, 255));
  auto host = Ipv4Prefix::parse("10.1.2.3/32");
  ASSERT_TRUE(host.has_value());
  EXPECT_TRUE(host->contains(Ipv4Address(10, 1, 2, 3)));
  EXPECT_FALSE(host->contains(Ipv4Address(10, 1, 2, 4)));
  auto slash31 = Ipv4Prefix::parse("10.1.2.3/31");
  ASSERT_TRUE(slash31.has_value());
  EXPECT_EQ(slash31->network(), Ipv4Address(10, 1, 2, 2));
  EXPECT_EQ(Ipv4Prefix(Ipv4Address(1, 2, 3, 4), 40).length(), 32);  // clamped by the constructor
}

TEST(AddressIpv4Prefix, Contains) {
  const auto pool = *Ipv4Prefix::parse("192.168.0.0/16");
  const auto block = *Ipv4Prefix::parse("192.168.3.64/26");  // a Calico IPAM block
  EXPECT_TRUE(pool.contains(Ipv4Address(192, 168, 255, 255)));
  EXPECT_FALSE(pool.contains(Ipv4Address(192, 169, 0, 0)));
  EXPECT_TRUE(pool.contains(block));
  EXPECT_FALSE(block.contains(pool));
  EXPECT_TRUE(block.contains(Ipv4Address(192, 168, 3, 127)));
  EXPECT_FALSE(block.contains(Ipv4Address(192, 168, 3, 128)));
  EXPECT_TRUE(block.contains(block));
}

TEST(AddressIpv4Prefix, RejectsMalformedText) {
  for (std::string_view text :
       {"1.2.3.4/33", "1.2.3.4/", "/24", "1.2.3.4/-1", "1.2.3.4/24/1", "1.2.3.4/ 24",
        "1.2.3.4/1000", "1.2.3/24", "1.2.3.4/x", "300.1.1.1/8", ""}) {
    auto p = Ipv4Prefix::parse(text);
    ASSERT_FALSE(p.has_value()) << "accepted '" << text << "'";
    EXPECT_EQ(p.error().code, Errc::kInvalidArgument) << text;
  }
}

TEST(AddressMac, ParsesAndFormats) {
  auto m = MacAddress::parse("b2:3b:89:70:60:7a");
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(m->bytes(), (std::array<std::uint8_t, 6>{0xb2, 0x3b, 0x89, 0x70, 0x60, 0x7a}));
  EXPECT_EQ(m->to_string(), "b2:3b:89:70:60:7a");
  EXPECT_EQ(fmt::format("{}", *m), "b2:3b:89:70:60:7a");
  // Upper case is accepted; output is lower case, as iproute2 prints it.
  auto upper = MacAddress::parse("3E:92:E1:D0:08:0C");
  ASSERT_TRUE(upper.has_value());
  EXPECT_EQ(upper->to_string(), "3e:92:e1:d0:08:0c");
  EXPECT_EQ(MacAddress::parse("00:00:00:00:00:00")->to_string(), "00:00:00:00:00:00");
}

TEST(AddressMac, RejectsMalformedText) {
  for (std::string_view text :
       {"", "aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:", "aa:bb:cc:dd:ee:ff:", "aa:bb:cc:dd:ee:ff:00",
        "aa:bb:cc:dd:ee:fg", "aa-bb-cc-dd-ee-ff", "aabb.ccdd.eeff", "aa:bb:cc:dd:eeff",
        "a:bb:cc:dd:ee:fff", " aa:bb:cc:dd:ee:f", "aa:bb:cc:dd:ee:ff ", "gg:bb:cc:dd:ee:ff"}) {
    auto m = MacAddress::parse(text);
    ASSERT_FALSE(m.has_value()) << "accepted '" << text << "'";
    EXPECT_EQ(m.error().code, Errc::kInvalidArgument) << text;
  }
}

TEST(AddressMac, Classifies) {
  EXPECT_TRUE(MacAddress::broadcast().is_broadcast());
  EXPECT_TRUE(MacAddress::broadcast().is_multicast());  // broadcast is a multicast address
  EXPECT_TRUE(MacAddress::parse("01:00:5e:00:00:01")->is_multicast());   // IPv4 multicast
  EXPECT_TRUE(MacAddress::parse("33:33:00:00:00:16")->is_multicast());   // IPv6 multicast
  EXPECT_FALSE(MacAddress::parse("ee:ee:ee:ee:ee:ee")->is_multicast());  // Calico's veth MAC
  EXPECT_FALSE(MacAddress::parse("ee:ee:ee:ee:ee:ee")->is_broadcast());
  EXPECT_TRUE(MacAddress().is_zero());
  EXPECT_FALSE(MacAddress::broadcast().is_zero());
}

}  // namespace
}  // namespace calisim::wire
