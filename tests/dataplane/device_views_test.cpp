// `ip -br link` and `ip -br addr` for the devices of a Calico node, compared whole with what
// iproute2 6.1 prints on kernel 6.18 (vxlan.calico and lo observed in a throw-away netns; the
// tunl0 line as iproute2 prints the ipip fallback device, linux.md §1.2 and §3). IPv6 addresses
// (`::1/128`, `fe80::/64`) are left out: calisim is IPv4 only.

#include <calisim/dataplane/namespace.hpp>
#include <calisim/dataplane/segment.hpp>
#include <calisim/dataplane/tunnel.hpp>
#include <calisim/dataplane/views.hpp>

#include <gtest/gtest.h>

namespace calisim::dataplane {
namespace {

using wire::Ipv4Prefix;
using wire::MacAddress;

Ipv4Prefix pfx(const char* text) {
  return *Ipv4Prefix::parse(text);
}

TEST(DeviceViews, CalicoNodeDevicesDownThenUp) {
  Simulator sim;
  wire::PacketPool pool;
  Segment lan(sim, "lan");
  Namespace node(sim, pool, "node-a");
  node.add_device<EthernetPort>("enp0s8", MacAddress({0x08, 0x00, 0x27, 0x00, 0x00, 0x0a}), lan);
  node.add_device<IpipTunnel>();
  node.add_device<VxlanTunnel>("vxlan.calico", MacAddress({0x66, 0x11, 0x22, 0x33, 0x44, 0x0a}));
  EXPECT_EQ(views::ip_br_link(node),
            "lo               DOWN           00:00:00:00:00:00 <LOOPBACK> \n"
            "enp0s8           DOWN           08:00:27:00:00:0a <BROADCAST,MULTICAST> \n"
            "tunl0@NONE       DOWN           0.0.0.0 <NOARP> \n"
            "vxlan.calico     DOWN           66:11:22:33:44:0a <BROADCAST,MULTICAST> \n");
  EXPECT_EQ(views::ip_br_addr(node),
            "lo               DOWN           \n"
            "enp0s8           DOWN           \n"
            "tunl0@NONE       DOWN           \n"
            "vxlan.calico     DOWN           \n");
  ASSERT_TRUE(node.add_address("enp0s8", pfx("192.168.56.10/24")));
  ASSERT_TRUE(node.add_address("tunl0", pfx("10.244.1.0/32")));
  ASSERT_TRUE(node.add_address("vxlan.calico", pfx("10.244.1.1/32")));
  for (const char* dev : {"lo", "enp0s8", "tunl0", "vxlan.calico"}) {
    ASSERT_TRUE(node.set_up(dev, true));
  }
  EXPECT_EQ(
      views::ip_br_link(node),
      "lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> \n"
      "enp0s8           UP             08:00:27:00:00:0a <BROADCAST,MULTICAST,UP,LOWER_UP> \n"
      "tunl0@NONE       UNKNOWN        0.0.0.0 <NOARP,UP,LOWER_UP> \n"
      "vxlan.calico     UNKNOWN        66:11:22:33:44:0a <BROADCAST,MULTICAST,UP,LOWER_UP> \n");
  // lo's 127.0.0.1/8 came with `ip link set lo up`.
  EXPECT_EQ(views::ip_br_addr(node),
            "lo               UNKNOWN        127.0.0.1/8 \n"
            "enp0s8           UP             192.168.56.10/24 \n"
            "tunl0@NONE       UNKNOWN        10.244.1.0/32 \n"
            "vxlan.calico     UNKNOWN        10.244.1.1/32 \n");
  // Down again: the address stays, the state goes (and lo keeps one 127.0.0.1/8 when it comes
  // back up: inet_insert_ifa does not add it twice).
  ASSERT_TRUE(node.set_up("vxlan.calico", false));
  ASSERT_TRUE(node.set_up("lo", false));
  ASSERT_TRUE(node.set_up("lo", true));
  EXPECT_EQ(views::ip_br_addr(node),
            "lo               UNKNOWN        127.0.0.1/8 \n"
            "enp0s8           UP             192.168.56.10/24 \n"
            "tunl0@NONE       UNKNOWN        10.244.1.0/32 \n"
            "vxlan.calico     DOWN           10.244.1.1/32 \n");
}

}  // namespace
}  // namespace calisim::dataplane
