// Three nodes in a full iBGP mesh over simulated TCP, as Calico's node-to-node mesh runs: the
// sessions come up, each node learns the others' blocks and installs them, the capture shows
// BGP that tshark decodes; a cable pulled for longer than the hold time tears the sessions to
// that node down and withdraws its routes; after the repair everything comes back.

#include <calisim/bgp/sim_io.hpp>
#include <calisim/bgp/speaker.hpp>
#include <calisim/capture/capture_set.hpp>
#include <calisim/dataplane/capture_tap.hpp>
#include <calisim/dataplane/faults.hpp>
#include <calisim/dataplane/namespace.hpp>
#include <calisim/dataplane/segment.hpp>
#include <calisim/dataplane/tcp_stack.hpp>
#include <calisim/dataplane/views.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "test_util.hpp"

namespace calisim::bgp {
namespace {

using wire::Ipv4Address;
using wire::Ipv4Prefix;

Ipv4Prefix pfx(const std::string& text) {
  return *Ipv4Prefix::parse(text);
}
Ipv4Address ip(const std::string& text) {
  return *Ipv4Address::parse(text);
}
Time at(std::int64_t seconds) {
  return Time::zero() + Duration::seconds(seconds);
}

std::string mesh_name(const std::string& address) {
  std::string n = "Mesh_" + address;
  for (char& c : n) c = c == '.' ? '_' : c;
  return n;
}

struct Node {
  std::unique_ptr<dataplane::Namespace> ns;
  dataplane::EthernetPort* eth0 = nullptr;
  std::unique_ptr<dataplane::TcpStack> tcp;
  std::unique_ptr<SimBgpIo> io;
  std::unique_ptr<Speaker> speaker;
  std::string address;
  std::string block;
};

struct Mesh {
  Simulator sim{11};
  wire::PacketPool pool;
  dataplane::Segment lan{sim, "lan"};
  std::vector<Node> nodes;
  std::vector<std::string> events;

  explicit Mesh(int n) {
    for (int i = 0; i < n; ++i) {
      Node node;
      node.address = fmt::format("10.0.0.{}", i + 1);
      node.block = fmt::format("10.244.{}.0/26", i + 1);
      node.ns = std::make_unique<dataplane::Namespace>(sim, pool, fmt::format("node{}", i + 1));
      node.eth0 = &node.ns->add_device<dataplane::EthernetPort>(
          "eth0", wire::MacAddress({2, 0, 0, 0, 0, static_cast<std::uint8_t>(i + 1)}), lan);
      EXPECT_TRUE(node.ns->add_address("eth0", pfx(node.address + "/24")));
      EXPECT_TRUE(node.ns->set_up("eth0", true));
      node.tcp = std::make_unique<dataplane::TcpStack>(*node.ns);
      node.io = std::make_unique<SimBgpIo>(*node.tcp);
      node.speaker = std::make_unique<Speaker>(
          SpeakerConfig{.name = node.ns->name(), .router_id = ip(node.address), .seed = 11},
          *node.io);
      nodes.push_back(std::move(node));
    }
    for (auto& me : nodes) {
      for (auto& other : nodes) {
        if (&me == &other) continue;
        NeighborConfig c;
        c.peer.name = mesh_name(other.address);
        c.peer.address = ip(other.address);
        c.peer.source_address = ip(me.address);
        c.peer.interface = "eth0";
        c.peer.export_filter = Filter::accept_all();
        // confd: `passive on` when the peer's address is greater as a string.
        c.session.passive = other.address > me.address;
        me.speaker->add_neighbor(c);
      }
      me.speaker->attach_kernel(*me.ns, KernelConfig{});
      me.io->attach(*me.speaker);
      const std::string name = me.ns->name();
      me.speaker->set_event_listener([this, name](const NeighborEvent& e) {
        events.push_back(
            fmt::format("{} {} {} {}", e.at.ns() / 1'000'000'000, name, e.neighbor, e.what));
      });
      me.speaker->rib().originate(pfx(me.block));
      me.speaker->start(sim.now());
    }
  }

  std::string states(const Node& n) const {
    std::string out;
    for (std::size_t i = 0; i < n.speaker->neighbor_count(); ++i) {
      const auto st = n.speaker->status(i);
      out += fmt::format("{} {} {};", st.name, to_string(st.session.state), st.routes_imported);
    }
    return out;
  }
};

TEST(BgpSpeakerSim, FullMeshComesUpExchangesBlocksAndInstallsThem) {
  Mesh m(3);
  m.sim.run_until(at(30));
  EXPECT_EQ(m.states(m.nodes[0]), "Mesh_10_0_0_2 Established 1;Mesh_10_0_0_3 Established 1;");
  EXPECT_EQ(m.states(m.nodes[1]), "Mesh_10_0_0_1 Established 1;Mesh_10_0_0_3 Established 1;");
  EXPECT_EQ(m.states(m.nodes[2]), "Mesh_10_0_0_1 Established 1;Mesh_10_0_0_2 Established 1;");
  EXPECT_EQ(dataplane::views::ip_route(*m.nodes[0].ns),
            "10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1 \n"
            "blackhole 10.244.1.0/26 proto bird \n"
            "10.244.2.0/26 via 10.0.0.2 dev eth0 proto bird \n"
            "10.244.3.0/26 via 10.0.0.3 dev eth0 proto bird \n");
}

TEST(BgpSpeakerSim, CaptureDecodesAsBgpInTshark) {
  const auto dir = test::work_dir("bgp_mesh_capture");
  const auto path = dir / "mesh.pcapng";
  {
    capture::CaptureOptions o;
    o.pcapng_path = path;
    auto cap = capture::CaptureSet::open(o);
    ASSERT_TRUE(cap.has_value());
    dataplane::CaptureTap tap(*cap);
    Mesh m(3);
    for (auto& n : m.nodes) tap.attach(*n.ns);
    m.sim.run_until(at(30));
    ASSERT_TRUE(cap->close().has_value());
  }
  // Each segment is in the file twice (sent on one node's eth0, received on another's); tshark
  // dissects the first copy and treats the second as a retransmission, so read across all
  // interfaces. Every ordered pair of nodes exchanged an OPEN, KEEPALIVEs and UPDATEs.
  const auto types = test::run_command(
      "tshark -r '" + path.string() +
      "' -Y bgp -T fields -e ip.src -e ip.dst -e bgp.type -E occurrence=a -E separator=, "
      "2>/dev/null | sort -u");
  for (int a = 1; a <= 3; ++a) {
    for (int b = 1; b <= 3; ++b) {
      if (a == b) continue;
      for (const char* type : {"1", "4"}) {
        const std::string line = fmt::format("10.0.0.{},10.0.0.{},{}\n", a, b, type);
        EXPECT_NE(types.out.find(line), std::string::npos) << line << types.out;
      }
      EXPECT_NE(types.out.find(fmt::format("10.0.0.{},10.0.0.{},2", a, b)), std::string::npos)
          << types.out;
    }
  }
  const auto nlri = test::run_command("tshark -r '" + path.string() +
                                      "' -Y 'bgp.type == 2 && bgp.nlri_prefix && ip.dst == "
                                      "10.0.0.1' -T fields -e bgp.nlri_prefix -e "
                                      "bgp.update.path_attribute.next_hop -e "
                                      "bgp.update.path_attribute.origin -e "
                                      "bgp.update.path_attribute.local_pref 2>/dev/null | sort");
  EXPECT_EQ(nlri.out, "10.244.2.0\t10.0.0.2\t0\t100\n10.244.3.0\t10.0.0.3\t0\t100\n");
  // BIRD ends the initial feed with an End-of-RIB (bgp_feed_end with `graceful restart`, as
  // Calico configures it): a 23-octet UPDATE from every node to every peer, after the UPDATE
  // carrying its block. A segment may carry several messages; the lengths come in order.
  const auto updates = test::run_command(
      "tshark -r '" + path.string() +
      "' -Y 'bgp.type == 2' -T fields -e ip.src -e ip.dst -e bgp.length -E occurrence=a "
      "-E separator=';' 2>/dev/null");
  const auto eor = test::run_command("tshark -r '" + path.string() +
                                     "' -Y 'bgp.type == 2 && bgp.length == 23' -T fields -e "
                                     "ip.src -e ip.dst -E separator=, 2>/dev/null | sort -u");
  std::string pairs;
  for (int a = 1; a <= 3; ++a) {
    for (int b = 1; b <= 3; ++b) {
      if (a == b) continue;
      pairs += fmt::format("10.0.0.{},10.0.0.{}\n", a, b);
      // The lengths a sent b, in capture order: its block's UPDATE (49 octets) comes first.
      std::vector<std::string> lengths;
      std::istringstream in(updates.out);
      const std::string key = fmt::format("10.0.0.{};10.0.0.{};", a, b);
      for (std::string line; std::getline(in, line);) {
        if (line.rfind(key, 0) != 0) continue;
        std::istringstream fields(line.substr(key.size()));
        for (std::string l; std::getline(fields, l, ',');) lengths.push_back(l);
      }
      const auto block = std::find(lengths.begin(), lengths.end(), "49");
      const auto end_of_rib = std::find(lengths.begin(), lengths.end(), "23");
      EXPECT_NE(block, lengths.end()) << key << updates.out;
      EXPECT_NE(end_of_rib, lengths.end()) << key << updates.out;
      EXPECT_LT(block, end_of_rib) << key << updates.out;
    }
  }
  EXPECT_EQ(eor.out, pairs);
  const auto bad =
      test::run_command("tshark -r '" + path.string() +
                        "' -Y '_ws.malformed || _ws.expert.severity >= error' 2>/dev/null | wc -l");
  EXPECT_EQ(bad.out, "0\n");
}

TEST(BgpSpeakerSim, LinkFailureLongerThanHoldTimeTearsDownAndRecovers) {
  Mesh m(3);
  m.sim.run_until(at(30));
  ASSERT_EQ(m.states(m.nodes[0]), "Mesh_10_0_0_2 Established 1;Mesh_10_0_0_3 Established 1;");
  dataplane::FaultSchedule faults(m.sim);
  faults.unplug(at(40), *m.nodes[2].eth0);
  faults.plug(at(400), *m.nodes[2].eth0);
  m.sim.run_until(at(300));
  // Hold time 240 s: by t=300 node1 and node2 have given up on node3 (and node3 on them).
  EXPECT_EQ(m.states(m.nodes[0]).substr(0, 34), "Mesh_10_0_0_2 Established 1;Mesh_1");
  EXPECT_NE(m.states(m.nodes[0]).find("Mesh_10_0_0_3 "), std::string::npos);
  EXPECT_EQ(m.states(m.nodes[0]).find("Mesh_10_0_0_3 Established"), std::string::npos)
      << m.states(m.nodes[0]);
  const auto down = m.nodes[0].speaker->status(1).session;
  EXPECT_EQ(down.last_error, "BGP Error: Hold timer expired") << down.info;
  EXPECT_EQ(dataplane::views::ip_route(*m.nodes[0].ns).find("10.244.3.0"), std::string::npos)
      << dataplane::views::ip_route(*m.nodes[0].ns);
  m.sim.run_until(at(500));
  EXPECT_EQ(m.states(m.nodes[0]), "Mesh_10_0_0_2 Established 1;Mesh_10_0_0_3 Established 1;");
  EXPECT_NE(dataplane::views::ip_route(*m.nodes[0].ns).find("10.244.3.0/26 via 10.0.0.3"),
            std::string::npos);
  // The events: established at start-up, down on hold expiry, established again.
  std::string node1;
  for (const auto& e : m.events) {
    if (e.find("node1 Mesh_10_0_0_3") != std::string::npos)
      node1 += e.substr(e.find(' ') + 1) + ";";
  }
  EXPECT_EQ(node1,
            "node1 Mesh_10_0_0_3 established;node1 Mesh_10_0_0_3 down;"
            "node1 Mesh_10_0_0_3 established;");
}

}  // namespace
}  // namespace calisim::bgp
