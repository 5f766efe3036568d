// Pod to pod across two nodes, plumbed the way Calico does it by hand: the pod's /32 on eth0,
// `169.254.1.1 dev eth0 scope link` and `default via 169.254.1.1`, the host's cali veth with
// proxy_arp and a /32 route, and remote blocks through tunl0 (IPIP) or vxlan.calico (VXLAN).
// calico.md §1.2-1.3.

#include <calisim/capture/capture_set.hpp>
#include <calisim/dataplane/capture_tap.hpp>
#include <calisim/dataplane/faults.hpp>
#include <calisim/dataplane/namespace.hpp>
#include <calisim/dataplane/ping.hpp>
#include <calisim/dataplane/segment.hpp>
#include <calisim/dataplane/tunnel.hpp>
#include <calisim/dataplane/veth.hpp>
#include <calisim/wire/icmp.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "dataplane/capture_all.hpp"
#include "test_util.hpp"
#include "tshark_check.hpp"

namespace calisim::dataplane {
namespace {

using wire::Ipv4Address;
using wire::Ipv4Prefix;
using wire::MacAddress;

Ipv4Prefix pfx(const char* text) {
  return *Ipv4Prefix::parse(text);
}
Ipv4Address ip(const char* text) {
  return *Ipv4Address::parse(text);
}

constexpr MacAddress kCaliMac({0xee, 0xee, 0xee, 0xee, 0xee, 0xee});

enum class Mode { kIpip, kVxlan, kNoEncap };

struct Node {
  Namespace* host;
  Namespace* pod;
  std::string node_ip;
  std::string block;
  std::string pod_ip;
  std::string tunnel_ip;
  MacAddress vtep;
};

class TwoNodes {
 public:
  explicit TwoNodes(Mode mode, bool default_route = true) : mode_(mode), segment_(sim_, "lan") {
    nodes_[0] = make_node("node-a", "192.168.56.10", "10.244.1.0/26", "10.244.1.5", "10.244.1.0",
                          0x0a, default_route);
    nodes_[1] = make_node("node-b", "192.168.56.11", "10.244.2.0/26", "10.244.2.7", "10.244.2.0",
                          0x0b, default_route);
    for (int i = 0; i < 2; ++i) route_to(nodes_[i], nodes_[1 - i]);
  }
  ~TwoNodes() { namespaces_.clear(); }

  Simulator& sim() { return sim_; }
  Segment& segment() { return segment_; }
  Node& node(int i) { return nodes_[i]; }
  wire::PacketPool& pool() { return pool_; }
  std::vector<std::unique_ptr<Namespace>>& all() { return namespaces_; }

 private:
  Namespace& ns(const std::string& name) {
    namespaces_.push_back(std::make_unique<Namespace>(sim_, pool_, name));
    Namespace& n = *namespaces_.back();
    EXPECT_TRUE(n.set_up("lo", true));
    return n;
  }

  Node make_node(const std::string& name, const std::string& node_ip, const std::string& block,
                 const std::string& pod_ip, const std::string& tunnel_ip, std::uint8_t id,
                 bool default_route) {
    Namespace& host = ns(name);
    host.set_ip_forward(true);
    host.add_device<EthernetPort>("enp0s8", MacAddress({0x08, 0, 0x27, 0, 0, id}), segment_);
    EXPECT_TRUE(host.add_address("enp0s8", pfx((node_ip + "/24").c_str())));
    EXPECT_TRUE(host.set_up("enp0s8", true));
    if (default_route) {
      Route def;
      def.destination = pfx("0.0.0.0/0");
      def.gateway = ip("192.168.56.1");
      def.ifindex = host.device("enp0s8")->ifindex();
      EXPECT_TRUE(host.fib().add_route(def));
    }
    MacAddress vtep({0x66, 0x11, 0x22, 0x33, 0x44, id});
    if (mode_ == Mode::kIpip) {
      host.add_device<IpipTunnel>();
      EXPECT_TRUE(host.add_address("tunl0", pfx((tunnel_ip + "/32").c_str())));
      EXPECT_TRUE(host.set_up("tunl0", true));
    } else if (mode_ == Mode::kVxlan) {
      host.add_device<VxlanTunnel>("vxlan.calico", vtep);
      EXPECT_TRUE(host.add_address("vxlan.calico", pfx((tunnel_ip + "/32").c_str())));
      EXPECT_TRUE(host.set_up("vxlan.calico", true));
    }
    Namespace& pod = ns(name + "-pod");
    const std::string cali = "cali" + name.substr(5) + "0123456789";
    Veth::create(host, cali, kCaliMac, pod, "eth0", MacAddress({0x0e, 0, 0, 0, 0, id}));
    host.conf(cali).proxy_arp = true;
    host.conf(cali).proxy_delay_centis = 0;
    EXPECT_TRUE(host.set_up(cali, true));
    Route to_pod;
    to_pod.destination = pfx((pod_ip + "/32").c_str());
    to_pod.ifindex = host.device(cali)->ifindex();
    to_pod.scope = RouteScope::kLink;
    EXPECT_TRUE(host.fib().add_route(to_pod));
    Route hole;
    hole.destination = pfx(block.c_str());
    hole.type = RouteType::kBlackhole;
    hole.protocol = route_protocol::kBird;
    EXPECT_TRUE(host.fib().add_route(hole));
    // CNI: the pod side.
    EXPECT_TRUE(pod.add_address("eth0", pfx((pod_ip + "/32").c_str())));
    EXPECT_TRUE(pod.set_up("eth0", true));
    Route gw;
    gw.destination = pfx("169.254.1.1/32");
    gw.ifindex = pod.device("eth0")->ifindex();
    gw.scope = RouteScope::kLink;
    EXPECT_TRUE(pod.fib().add_route(gw));
    Route def;
    def.destination = pfx("0.0.0.0/0");
    def.gateway = ip("169.254.1.1");
    def.ifindex = pod.device("eth0")->ifindex();
    EXPECT_TRUE(pod.fib().add_route(def));
    return Node{&host, &pod, node_ip, block, pod_ip, tunnel_ip, vtep};
  }

  void route_to(Node& from, Node& to) {
    Namespace& host = *from.host;
    Route r;
    r.destination = pfx(to.block.c_str());
    if (mode_ == Mode::kIpip) {
      r.gateway = ip(to.node_ip.c_str());
      r.ifindex = host.device("tunl0")->ifindex();
      r.onlink = true;
      r.protocol = route_protocol::kBird;
    } else if (mode_ == Mode::kVxlan) {
      r.gateway = ip(to.tunnel_ip.c_str());
      r.ifindex = host.device("vxlan.calico")->ifindex();
      r.onlink = true;
      r.protocol = route_protocol::kFelix;
      auto& vx = static_cast<VxlanTunnel&>(*host.device("vxlan.calico"));
      vx.add_fdb(to.vtep, ip(to.node_ip.c_str()));
      (void)host.neighbours().add_permanent(vx.ifindex(), ip(to.tunnel_ip.c_str()), to.vtep,
                                            sim_.now());
    } else {
      r.gateway = ip(to.node_ip.c_str());
      r.ifindex = host.device("enp0s8")->ifindex();
      r.protocol = route_protocol::kBird;
    }
    EXPECT_TRUE(host.fib().add_route(r));
  }

  Mode mode_;
  Simulator sim_{7};
  wire::PacketPool pool_;
  Segment segment_;
  std::vector<std::unique_ptr<Namespace>> namespaces_;
  Node nodes_[2];
};

TEST(CalicoPaths, IpipPodToPodShowsTtl62) {
  TwoNodes lab(Mode::kIpip);
  test::CaptureAll cap("calico-ipip-pod-to-pod");
  cap.attach_all(lab.all());
  Ping ping(*lab.node(0).pod, ip("10.244.2.7"), PingOptions{.count = 3});
  lab.sim().run_until(Time::zero() + Duration::seconds(5));
  ASSERT_EQ(ping.statistics().received, 3u) << ping.output();
  EXPECT_EQ(ping.reply_ttls(), (std::vector<std::uint8_t>{62, 62, 62}));
  EXPECT_NE(ping.lines()[1].find("64 bytes from 10.244.2.7: icmp_seq=1 ttl=62 time="),
            std::string::npos);
  const auto f = cap.finish();
  test::expect_tshark_clean(f, {.min_packets = 30});
  // On the wire: IP in IP between the node addresses, outer TTL inherited from the inner packet
  // after one hop (63), inner 63 as well (reference/wire.md, tunl0).
  EXPECT_EQ(test::tshark_fields(f, "frame.interface_name == \"node-a/enp0s8\" && icmp.type == 8",
                                {"ip.proto", "ip.src", "ip.dst", "ip.ttl"}),
            std::vector<std::string>(
                3, "4,1\t192.168.56.10,10.244.1.5\t192.168.56.11,10.244.2.7\t63,63"));
}

TEST(CalicoPaths, VxlanPodToPodShowsTtl62) {
  TwoNodes lab(Mode::kVxlan);
  test::CaptureAll cap("calico-vxlan-pod-to-pod");
  cap.attach_all(lab.all());
  Ping ping(*lab.node(0).pod, ip("10.244.2.7"), PingOptions{.count = 3});
  lab.sim().run_until(Time::zero() + Duration::seconds(5));
  ASSERT_EQ(ping.statistics().received, 3u) << ping.output();
  EXPECT_EQ(ping.reply_ttls(), (std::vector<std::uint8_t>{62, 62, 62}));
  const auto f = cap.finish();
  test::expect_tshark_clean(f, {.min_packets = 30});
  // Felix's VNI on UDP 4789 between the nodes, the inner packet between the pods, TTL 63.
  EXPECT_EQ(test::tshark_fields(f,
                                "frame.interface_name == \"node-b/enp0s8\" && vxlan && "
                                "icmp.type == 8",
                                {"udp.dstport", "vxlan.vni", "ip.src", "ip.dst", "ip.ttl"}),
            std::vector<std::string>(
                3, "4789\t4096\t192.168.56.10,10.244.1.5\t192.168.56.11,10.244.2.7\t64,63"));
}

TEST(CalicoPaths, NoEncapPodToPod) {
  TwoNodes lab(Mode::kNoEncap);
  Ping ping(*lab.node(1).pod, ip("10.244.1.5"), PingOptions{.count = 2});
  lab.sim().run_until(Time::zero() + Duration::seconds(5));
  ASSERT_EQ(ping.statistics().received, 2u) << ping.output();
  EXPECT_EQ(ping.reply_ttls(), (std::vector<std::uint8_t>{62, 62}));
}

TEST(CalicoPaths, FabricBlockingIpipBreaksIpipOnly) {
  TwoNodes lab(Mode::kIpip);
  lab.segment().block_ip_protocol(4);
  Ping ping(*lab.node(0).pod, ip("10.244.2.7"), PingOptions{.count = 2});
  lab.sim().run_until(Time::zero() + Duration::seconds(15));
  EXPECT_EQ(ping.statistics().received, 0u);
  EXPECT_EQ(lab.node(0).host->drops(DropReason::kFilteredByFabric), 2u);
}

// A cloud fabric that drops UDP 4789 from 1.5 s to 3.5 s (FaultSchedule::block_udp_port): pod
// echoes 3 and 4 over VXLAN vanish at node-a's NIC (filtered-by-fabric, nothing on node-b's
// wire), 1, 2 and 5 get through. The same fault leaves IPIP (protocol 4) alone.
TEST(CalicoPaths, FabricBlockingTheVxlanPortBreaksVxlanOnly) {
  for (Mode mode : {Mode::kVxlan, Mode::kIpip}) {
    const bool vxlan = mode == Mode::kVxlan;
    SCOPED_TRACE(vxlan ? "vxlan" : "ipip");
    TwoNodes lab(mode);
    FaultSchedule faults(lab.sim());
    faults.block_udp_port(Time::zero() + Duration::milliseconds(1500), lab.segment(), 4789);
    faults.unblock_udp_port(Time::zero() + Duration::milliseconds(3500), lab.segment(), 4789);
    test::CaptureAll cap(vxlan ? "calico-block-4789-vxlan" : "calico-block-4789-ipip");
    cap.attach_all(lab.all());
    Ping ping(*lab.node(0).pod, ip("10.244.2.7"), PingOptions{.count = 5});
    lab.sim().run_until(Time::zero() + Duration::seconds(15));
    std::vector<int> answered;
    for (const auto& line : ping.lines()) {
      if (auto pos = line.find("icmp_seq="); pos != std::string::npos && line.ends_with(" ms")) {
        answered.push_back(std::stoi(line.substr(pos + 9)));
      }
    }
    EXPECT_EQ(answered, (vxlan ? std::vector<int>{1, 2, 5} : std::vector<int>{1, 2, 3, 4, 5}))
        << ping.output();
    EXPECT_EQ(lab.node(0).host->drops(DropReason::kFilteredByFabric), vxlan ? 2u : 0u);
    EXPECT_EQ(lab.node(1).host->drops(DropReason::kFilteredByFabric), 0u);
    const auto f = cap.finish();
    test::expect_tshark_clean(f, {.min_packets = 30});
    EXPECT_EQ(test::tshark_fields(f, "frame.interface_name == \"node-b/enp0s8\" && icmp.type == 8",
                                  {"icmp.seq"}),
              (vxlan ? std::vector<std::string>{"1", "2", "5"}
                     : std::vector<std::string>{"1", "2", "3", "4", "5"}));
  }
}

TEST(CalicoPaths, ProxyArpNeedsAHostRouteTo169_254_1_1) {
  // calico#3270: with no default route the host has no route to 169.254.1.1, proxy ARP stays
  // silent, and the pod's ARP for its gateway fails.
  TwoNodes lab(Mode::kIpip, /*default_route=*/false);
  test::CaptureAll cap("calico-proxy-arp-no-route");
  cap.attach_all(lab.all());
  Ping ping(*lab.node(0).pod, ip("10.244.2.7"), PingOptions{.count = 1});
  lab.sim().run_until(Time::zero() + Duration::seconds(15));
  EXPECT_EQ(ping.statistics().received, 0u);
  ASSERT_GE(ping.lines().size(), 2u);
  EXPECT_EQ(ping.lines()[1], "From 10.244.1.5 icmp_seq=1 Destination Host Unreachable");
  const Namespace& pod = *lab.node(0).pod;
  const NeighbourEntry* gw =
      pod.neighbours().find(pod.device("eth0")->ifindex(), ip("169.254.1.1"));
  ASSERT_NE(gw, nullptr);
  EXPECT_EQ(gw->state, NeighbourState::kFailed);
  const auto f = cap.finish();
  test::expect_tshark_clean(f, {.min_packets = 6});
  // Three unanswered requests 1 s apart, seen on both ends of the veth, and no reply.
  EXPECT_EQ(test::tshark_fields(f, "arp.opcode == 1 && arp.dst.proto_ipv4 == 169.254.1.1",
                                {"frame.interface_name", "frame.time_relative"}),
            (std::vector<std::string>{
                "node-a-pod/eth0\t0.000000000", "node-a/calia0123456789\t0.000000000",
                "node-a-pod/eth0\t1.000000000", "node-a/calia0123456789\t1.000000000",
                "node-a-pod/eth0\t2.000000000", "node-a/calia0123456789\t2.000000000"}));
  EXPECT_EQ(test::tshark_count(f, "arp.opcode == 2"), 0u);
}

TEST(CalicoPaths, ProxyArpAnswersWithTheCaliMac) {
  TwoNodes lab(Mode::kIpip);
  test::CaptureAll cap("calico-proxy-arp-answers");
  cap.attach_all(lab.all());
  Ping ping(*lab.node(0).pod, ip("10.244.2.7"), PingOptions{.count = 1});
  lab.sim().run_until(Time::zero() + Duration::seconds(2));
  const Namespace& pod = *lab.node(0).pod;
  const NeighbourEntry* gw =
      pod.neighbours().find(pod.device("eth0")->ifindex(), ip("169.254.1.1"));
  ASSERT_NE(gw, nullptr);
  EXPECT_EQ(gw->mac, kCaliMac);
  const auto f = cap.finish();
  test::expect_tshark_clean(f, {.min_packets = 10});
  // The host answers for 169.254.1.1 with the cali MAC, in the pod's own namespace.
  EXPECT_EQ(test::tshark_fields(f, "frame.interface_name == \"node-a-pod/eth0\" && arp.opcode == 2",
                                {"arp.src.proto_ipv4", "arp.src.hw_mac", "arp.dst.proto_ipv4"}),
            (std::vector<std::string>{"169.254.1.1\tee:ee:ee:ee:ee:ee\t10.244.1.5"}));
}

TEST(CalicoPaths, LinkFailureAndRecovery) {
  TwoNodes lab(Mode::kIpip);
  test::CaptureAll cap("calico-link-failure");
  cap.attach_all(lab.all());
  Ping before(*lab.node(0).pod, ip("10.244.2.7"), PingOptions{.count = 2});
  lab.sim().run_until(Time::zero() + Duration::seconds(3));
  ASSERT_EQ(before.statistics().received, 2u);
  lab.segment().set_up(false);
  Ping during(*lab.node(0).pod, ip("10.244.2.7"), PingOptions{.count = 3});
  lab.sim().run_until(Time::zero() + Duration::seconds(20));
  EXPECT_EQ(during.statistics().received, 0u);
  EXPECT_GE(lab.node(0).host->drops(DropReason::kLinkDown), 3u);
  lab.segment().set_up(true);
  Ping after(*lab.node(0).pod, ip("10.244.2.7"), PingOptions{.count = 2});
  lab.sim().run_until(Time::zero() + Duration::seconds(25));
  EXPECT_EQ(after.statistics().received, 2u) << after.output();
  const auto f = cap.finish();
  test::expect_tshark_clean(f, {.min_packets = 30});
  // Seven requests left the pod; only the four outside the outage crossed to node-b and came
  // back.
  const auto pod_a = std::string("frame.interface_name == \"node-a-pod/eth0\" && ");
  EXPECT_EQ(test::tshark_count(f, pod_a + "icmp.type == 8"), 7u);
  EXPECT_EQ(test::tshark_count(f, pod_a + "icmp.type == 0"), 4u);
  EXPECT_EQ(test::tshark_count(f, "frame.interface_name == \"node-b/enp0s8\" && icmp.type == 8"),
            4u);
}

TEST(CalicoPaths, CaptureOfEveryDevicePassesTshark) {
  TwoNodes lab(Mode::kIpip);
  test::CaptureAll cap("calico-paths-capture");
  cap.attach_all(lab.all());
  Ping ping(*lab.node(0).pod, ip("10.244.2.7"), PingOptions{.count = 2});
  lab.sim().run_until(Time::zero() + Duration::seconds(5));
  ASSERT_EQ(ping.statistics().received, 2u);
  const auto f = cap.finish();
  test::expect_tshark_clean(f, {.min_packets = 20});
  const auto names = test::tshark(f, "-T fields -e frame.interface_name").out;
  EXPECT_NE(names.find("node-a/tunl0"), std::string::npos) << names;
  EXPECT_NE(names.find("node-a-pod/eth0"), std::string::npos) << names;
  EXPECT_NE(names.find("node-b/enp0s8"), std::string::npos) << names;
  const auto ipip = test::tshark_fields(f, "ip.proto == 4", {"ip.ttl"});
  EXPECT_NE(std::find(ipip.begin(), ipip.end(), "63,63"), ipip.end());
}

}  // namespace
}  // namespace calisim::dataplane

namespace calisim::dataplane {
namespace {

// Bursts of echoes for a while: every request must come back, with no drop anywhere.
TEST(CalicoPaths, SustainedBurstsLoseNothing) {
  TwoNodes lab(Mode::kIpip);
  Namespace& pod = *lab.node(0).pod;
  std::uint64_t replies = 0;
  pod.add_protocol_handler(1, [&replies](const wire::Ipv4View&, Time) { ++replies; });
  std::uint16_t seq = 0;
  auto burst = [&](int n) {
    static const std::array<std::uint8_t, 56> data{};
    for (int i = 0; i < n; ++i) {
      const auto icmp = wire::IcmpMessage::echo_request(7, ++seq, data);
      wire::Ipv4Header h;
      h.total_length = static_cast<std::uint16_t>(20 + icmp.size());
      h.protocol = wire::IpProtocol::kIcmp;
      h.source = ip("10.244.1.5");
      h.destination = ip("10.244.2.7");
      wire::Packet p = lab.pool().make(h.total_length);
      h.emit(p.bytes());
      icmp.emit(p.bytes().subspan(20));
      ASSERT_TRUE(pod.send(std::move(p)));
    }
  };
  for (int round = 0; round < 200; ++round) {
    burst(round == 0 ? 1 : 64);
    lab.sim().run_until(lab.sim().now() + Duration::milliseconds(50));
  }
  lab.sim().run_until(lab.sim().now() + Duration::seconds(1));
  std::string drops;
  for (auto& n : lab.all()) {
    for (std::size_t r = 0; r < kDropReasonCount; ++r) {
      if (auto c = n->drops(static_cast<DropReason>(r))) {
        drops += n->name() + ":" + std::string(to_string(static_cast<DropReason>(r))) + "=" +
                 std::to_string(c) + " ";
      }
    }
  }
  EXPECT_EQ(drops, "");
  EXPECT_EQ(replies, seq);
}

}  // namespace
}  // namespace calisim::dataplane
