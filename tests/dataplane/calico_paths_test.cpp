// Pod to pod across two nodes, plumbed the way Calico does it by hand: the pod's /32 on eth0,
// `169.254.1.1 dev eth0 scope link` and `default via 169.254.1.1`, the host's cali veth with
// proxy_arp and a /32 route, and remote blocks through tunl0 (IPIP) or vxlan.calico (VXLAN).
// calico.md §1.2-1.3.

#include <calisim/capture/capture_set.hpp>
#include <calisim/dataplane/capture_tap.hpp>
#include <calisim/dataplane/namespace.hpp>
#include <calisim/dataplane/ping.hpp>
#include <calisim/dataplane/segment.hpp>
#include <calisim/dataplane/tunnel.hpp>
#include <calisim/dataplane/veth.hpp>
#include <calisim/wire/icmp.hpp>

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "test_util.hpp"

namespace calisim::dataplane {
namespace {

using wire::Ipv4Address;
using wire::Ipv4Prefix;
using wire::MacAddress;

Ipv4Prefix pfx(const char* text) { return *Ipv4Prefix::parse(text); }
Ipv4Address ip(const char* text) { return *Ipv4Address::parse(text); }

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
    nodes_[0] = make_node("node-a", "192.168.56.10", "10.244.1.0/26", "10.244.1.5",
                          "10.244.1.0", 0x0a, default_route);
    nodes_[1] = make_node("node-b", "192.168.56.11", "10.244.2.0/26", "10.244.2.7",
                          "10.244.2.0", 0x0b, default_route);
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
  Ping ping(*lab.node(0).pod, ip("10.244.2.7"), PingOptions{.count = 3});
  lab.sim().run_until(Time::zero() + Duration::seconds(5));
  ASSERT_EQ(ping.statistics().received, 3u) << ping.output();
  EXPECT_EQ(ping.reply_ttls(), (std::vector<std::uint8_t>{62, 62, 62}));
  EXPECT_NE(ping.lines()[1].find("64 bytes from 10.244.2.7: icmp_seq=1 ttl=62 time="),
            std::string::npos);
}

TEST(CalicoPaths, VxlanPodToPodShowsTtl62) {
  TwoNodes lab(Mode::kVxlan);
  Ping ping(*lab.node(0).pod, ip("10.244.2.7"), PingOptions{.count = 3});
  lab.sim().run_until(Time::zero() + Duration::seconds(5));
  ASSERT_EQ(ping.statistics().received, 3u) << ping.output();
  EXPECT_EQ(ping.reply_ttls(), (std::vector<std::uint8_t>{62, 62, 62}));
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

TEST(CalicoPaths, ProxyArpNeedsAHostRouteTo169_254_1_1) {
  // calico#3270: with no default route the host has no route to 169.254.1.1, proxy ARP stays
  // silent, and the pod's ARP for its gateway fails.
  TwoNodes lab(Mode::kIpip, /*default_route=*/false);
  Ping ping(*lab.node(0).pod, ip("10.244.2.7"), PingOptions{.count = 1});
  lab.sim().run_until(Time::zero() + Duration::seconds(15));
  EXPECT_EQ(ping.statistics().received, 0u);
  ASSERT_GE(ping.lines().size(), 2u);
  EXPECT_EQ(ping.lines()[1], "From 10.244.1.5 icmp_seq=1 Destination Host Unreachable");
  const Namespace& pod = *lab.node(0).pod;
  const NeighbourEntry* gw = pod.neighbours().find(pod.device("eth0")->ifindex(), ip("169.254.1.1"));
  ASSERT_NE(gw, nullptr);
  EXPECT_EQ(gw->state, NeighbourState::kFailed);
}

TEST(CalicoPaths, ProxyArpAnswersWithTheCaliMac) {
  TwoNodes lab(Mode::kIpip);
  Ping ping(*lab.node(0).pod, ip("10.244.2.7"), PingOptions{.count = 1});
  lab.sim().run_until(Time::zero() + Duration::seconds(2));
  const Namespace& pod = *lab.node(0).pod;
  const NeighbourEntry* gw = pod.neighbours().find(pod.device("eth0")->ifindex(), ip("169.254.1.1"));
  ASSERT_NE(gw, nullptr);
  EXPECT_EQ(gw->mac, kCaliMac);
}

TEST(CalicoPaths, LinkFailureAndRecovery) {
  TwoNodes lab(Mode::kIpip);
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
}

TEST(CalicoPaths, CaptureOfEveryDevicePassesTshark) {
  const auto dir = test::work_dir("calico-paths-capture-" + std::to_string(::getpid()));
  capture::CaptureOptions options;
  options.pcapng_path = dir / "capture.pcapng";
  auto cap = capture::CaptureSet::open(options);
  ASSERT_TRUE(cap.has_value()) << cap.error().message;
  {
    TwoNodes lab(Mode::kIpip);
    CaptureTap tap(*cap);
    for (auto& n : lab.all()) tap.attach(*n);
    Ping ping(*lab.node(0).pod, ip("10.244.2.7"), PingOptions{.count = 2});
    lab.sim().run_until(Time::zero() + Duration::seconds(5));
    ASSERT_EQ(ping.statistics().received, 2u);
    ASSERT_FALSE(tap.failure().has_value());
  }
  ASSERT_TRUE(cap->close());
  const auto f = (dir / "capture.pcapng").string();
  const auto bad = test::run_command(
      "tshark -r '" + f + "' -o ip.check_checksum:TRUE -Y '_ws.malformed || _ws.expert.severity "
      ">= error || ip.checksum.status==0 || icmp.checksum.status==0' 2>/dev/null");
  EXPECT_EQ(bad.exit_code, 0);
  EXPECT_EQ(bad.out, "");
  const auto names = test::run_command("tshark -r '" + f +
                                       "' -T fields -e frame.interface_name 2>/dev/null | sort -u");
  EXPECT_NE(names.out.find("node-a/tunl0"), std::string::npos) << names.out;
  EXPECT_NE(names.out.find("node-a-pod/eth0"), std::string::npos) << names.out;
  EXPECT_NE(names.out.find("node-b/enp0s8"), std::string::npos) << names.out;
  const auto ipip = test::run_command("tshark -r '" + f +
                                      "' -Y 'ip.proto == 4' -T fields -e ip.ttl 2>/dev/null");
  EXPECT_NE(ipip.out.find("63,63"), std::string::npos) << ipip.out;
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
