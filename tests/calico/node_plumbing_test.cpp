// calico/node's address autodetection and the CNI plugin's pod plumbing, on the lab's hosts:
// enp0s3 10.0.2.15/24 (VirtualBox NAT, default route via 10.0.2.2) and enp0s8 on the shared /25.

#include <calisim/calico/autodetect.hpp>
#include <calisim/calico/cni.hpp>
#include <calisim/dataplane/namespace.hpp>
#include <calisim/dataplane/ping.hpp>
#include <calisim/dataplane/segment.hpp>
#include <calisim/dataplane/tunnel.hpp>
#include <calisim/dataplane/views.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace calisim::calico {
namespace {

using dataplane::EthernetPort;
using dataplane::Namespace;
using wire::Ipv4Address;
using wire::Ipv4Prefix;
using wire::MacAddress;

Ipv4Prefix pfx(const char* text) { return *Ipv4Prefix::parse(text); }
Ipv4Address ip(const char* text) { return *Ipv4Address::parse(text); }

struct LabHost {
  Simulator sim;
  wire::PacketPool pool;
  dataplane::Segment nat{sim, "nat"};
  dataplane::Segment lan{sim, "lan"};
  Namespace host{sim, pool, "user-controller"};
  LabHost() {
    EXPECT_TRUE(host.set_up("lo", true));
    host.add_device<EthernetPort>("enp0s3", MacAddress({8, 0, 0x27, 1, 1, 1}), nat);
    host.add_device<EthernetPort>("enp0s8", MacAddress({8, 0, 0x27, 2, 2, 2}), lan);
    EXPECT_TRUE(host.add_address("enp0s3", pfx("10.0.2.15/24")));
    EXPECT_TRUE(host.add_address("enp0s8", pfx("203.248.23.214/25")));
    EXPECT_TRUE(host.set_up("enp0s3", true));
    EXPECT_TRUE(host.set_up("enp0s8", true));
    dataplane::Route def;
    def.destination = pfx("0.0.0.0/0");
    def.gateway = ip("10.0.2.2");
    def.ifindex = host.device("enp0s3")->ifindex();
    def.protocol = dataplane::route_protocol::kDhcp;
    def.metric = 100;
    EXPECT_TRUE(host.fib().add_route(def));
    host.add_device<dataplane::IpipTunnel>();
    EXPECT_TRUE(host.add_address("tunl0", pfx("192.168.33.128/32")));
    EXPECT_TRUE(host.set_up("tunl0", true));
  }
  std::string detect(std::string_view method) {
    auto r = autodetect_ipv4(host, method);
    if (!r) return "error: " + r.error().message;
    return r->interface + " " + r->to_cidr();
  }
};

TEST(CalicoAutodetect, EveryMethodOnTheLabHost) {
  LabHost lab;
  // Reverse ifindex order: enp0s8 (3) comes before enp0s3 (2); lo and tunl0 are excluded.
  EXPECT_EQ(lab.detect("first-found"), "enp0s8 203.248.23.214/25");
  EXPECT_EQ(lab.detect(""), "enp0s8 203.248.23.214/25");
  EXPECT_EQ(lab.detect("interface=enp0s8"), "enp0s8 203.248.23.214/25");
  EXPECT_EQ(lab.detect("interface=enp0s3"), "enp0s3 10.0.2.15/24");
  EXPECT_EQ(lab.detect("interface=enp0s.*"), "enp0s8 203.248.23.214/25");
  EXPECT_EQ(lab.detect("interface=eth.*, enp0s3"), "enp0s3 10.0.2.15/24");
  EXPECT_EQ(lab.detect("skip-interface=enp0s8"), "enp0s3 10.0.2.15/24");
  EXPECT_EQ(lab.detect("cidr=10.0.0.0/8"), "enp0s3 10.0.2.15/24");
  EXPECT_EQ(lab.detect("cidr=172.16.0.0/12,203.248.23.128/25"), "enp0s8 203.248.23.214/25");
  // can-reach follows the route: the internet is behind the NAT's default route.
  EXPECT_EQ(lab.detect("can-reach=8.8.8.8"), "enp0s3 10.0.2.15/24");
  EXPECT_EQ(lab.detect("can-reach=203.248.23.215"), "enp0s8 203.248.23.214/25");
}

TEST(CalicoAutodetect, ExclusionsAndErrors) {
  LabHost lab;
  // docker0 appears later (a higher ifindex) but is on the exclusion list; a VPN's wg0 is not.
  lab.host.add_device<EthernetPort>("docker0", MacAddress({2, 0x42, 0, 0, 0, 1}), lab.nat);
  ASSERT_TRUE(lab.host.add_address("docker0", pfx("172.17.0.1/16")));
  EXPECT_EQ(lab.detect("first-found"), "enp0s8 203.248.23.214/25");
  lab.host.add_device<EthernetPort>("wg0", MacAddress({2, 0, 0, 0, 0, 7}), lab.nat);
  ASSERT_TRUE(lab.host.add_address("wg0", pfx("169.254.9.9/16")));  // link-local: not global
  ASSERT_TRUE(lab.host.add_address("wg0", pfx("100.64.0.7/10")));
  EXPECT_EQ(lab.detect("first-found"), "wg0 100.64.0.7/10");
  EXPECT_EQ(lab.detect("interface=nothing"),
            "error: Unable to auto-detect an IPv4 address using interface regexes [nothing]: no "
            "valid host interfaces found");
  EXPECT_EQ(lab.detect("cidr=10.0.0.0/33"),
            "error: Invalid CIDR \"10.0.0.0/33\" for IP autodetection method: cidr=10.0.0.0/33");
  EXPECT_EQ(lab.detect("closest"), "error: Invalid IP autodetection method: closest");
  EXPECT_EQ(lab.detect("cidr=198.51.100.0/24"),
            "error: Unable to auto-detect an IPv4 address using interface cidr 198.51.100.0/24: "
            "no valid IPv4 addresses found on the host interfaces");
}

TEST(CalicoCni, NamesAsCalicoComputesThem) {
  // conversion_test.go: VethNameForWorkload("namespace", "podname") with prefix eni.
  EXPECT_EQ(veth_name_for_workload("namespace", "podname", "eni"), "eni82111e10a96");
  EXPECT_EQ(veth_name_for_workload("namespace", "podname"), "cali82111e10a96");
  EXPECT_EQ(workload_endpoint_name("user-worker", "hello-776c774f98-894tt"),
            "user--worker-k8s-hello--776c774f98--894tt-eth0");
  const MacAddress m = random_mac(0x0123456789abcdefULL);
  EXPECT_EQ(m.to_string().substr(0, 2), "ee");  // 0xef with multicast bit cleared, local set
}

TEST(CalicoCni, PodPlumbingAsRealCalicoLeavesIt) {
  LabHost lab;
  Namespace pod(lab.sim, lab.pool, "default/hi");
  ASSERT_TRUE(pod.set_up("lo", true));
  // Every namespace of a host with the ipip module has a tunl0 of its own (down).
  pod.add_device<dataplane::IpipTunnel>();
  CniArgs args;
  args.k8s_namespace = "default";
  args.pod = "hi";
  args.ip = ip("192.168.33.133");
  args.mtu = 1480;
  args.pod_mac = MacAddress({0x52, 0x21, 0x08, 0xfd, 0x16, 0x4c});
  auto r = cni_add(lab.host, pod, args);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->host_interface, veth_name_for_workload("default", "hi"));
  EXPECT_EQ(r->pod_ifindex, 4u);  // lo 1, tunl0 2, the peer's 3 given up, eth0 4
  EXPECT_EQ(r->host_ifindex, 5u);  // after lo, enp0s3, enp0s8, tunl0
  EXPECT_EQ(dataplane::views::ip_route(pod),
            "default via 169.254.1.1 dev eth0 \n169.254.1.1 dev eth0 scope link \n");
  // The CNI brings lo up, and lo up means 127.0.0.1/8 (inetdev_event NETDEV_UP).
  EXPECT_EQ(dataplane::views::ip_br_addr(pod),
            "lo               UNKNOWN        127.0.0.1/8 \n"
            "tunl0@NONE       DOWN           \n"
            "eth0@if5         UP             192.168.33.133/32 \n");
  EXPECT_EQ(dataplane::views::ip_route(lab.host),
            "default via 10.0.2.2 dev enp0s3 proto dhcp metric 100 \n"
            "10.0.2.0/24 dev enp0s3 proto kernel scope link src 10.0.2.15 \n"
            "192.168.33.133 dev " + r->host_interface + " scope link \n"
            "203.248.23.128/25 dev enp0s8 proto kernel scope link src 203.248.23.214 \n");
  EXPECT_EQ(dataplane::views::ip_neigh(lab.host),
            "192.168.33.133 dev " + r->host_interface + " lladdr 52:21:08:fd:16:4c PERMANENT \n");
  const auto& conf = lab.host.conf(r->host_interface);
  EXPECT_TRUE(conf.proxy_arp);
  EXPECT_EQ(conf.proxy_delay_centis, 0u);
  EXPECT_TRUE(conf.forwarding);
  EXPECT_TRUE(conf.route_localnet);

  // The pod reaches its host's tunnel address: proxy ARP answers 169.254.1.1 with ee:ee:...
  dataplane::Ping ping(pod, ip("192.168.33.128"), dataplane::PingOptions{.count = 1});
  lab.sim.run_until(Time::zero() + Duration::seconds(2));
  EXPECT_EQ(ping.reply_ttls(), (std::vector<std::uint8_t>{64}));
  EXPECT_EQ(dataplane::views::ip_neigh(pod),
            "169.254.1.1 dev eth0 lladdr ee:ee:ee:ee:ee:ee REACHABLE \n");

  // The same pod again: refused, nothing changed.
  Namespace again(lab.sim, lab.pool, "default/hi-2");
  EXPECT_FALSE(cni_add(lab.host, again, args).has_value());
  // DEL: both ends and the host route go.
  ASSERT_TRUE(cni_del(lab.host, r->host_interface));
  EXPECT_EQ(pod.device("eth0"), nullptr);
  EXPECT_EQ(dataplane::views::ip_route(lab.host).find("192.168.33.133"), std::string::npos);
}

}  // namespace
}  // namespace calisim::calico
