// TCP flows in a running cluster (a small request, a large response) and the PMTU black hole of
// examples/mtu-blackhole.yaml: a fabric that carries fewer bytes than the NICs were told, drops
// the rest without an ICMP error, and stalls every full-size TCP segment; and its fix.

#include <calisim/calico/cluster.hpp>
#include <calisim/calico/scenario.hpp>
#include <calisim/dataplane/device.hpp>
#include <calisim/dataplane/namespace.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

#include "test_util.hpp"

namespace calisim::calico {
namespace {

const std::filesystem::path kExamples =
    std::filesystem::path(CALISIM_TEST_DATA_DIR) / ".." / ".." / "examples";
constexpr std::uint64_t kMiB = 1024 * 1024;
const char* const kHello = "default/hello-776c774f98-894tt";

Scenario load(const std::string& file) {
  auto scenario = load_scenario(kExamples / file);
  EXPECT_TRUE(scenario.has_value()) << (scenario ? "" : scenario.error().message);
  return scenario ? *scenario : Scenario{};
}

std::unique_ptr<Cluster> make(const Scenario& s, const std::filesystem::path& dir = {}) {
  ClusterOptions o;
  o.run_dir = dir;
  auto cluster = Cluster::create(s, o);
  EXPECT_TRUE(cluster.has_value()) << (cluster ? "" : cluster.error().message);
  return cluster ? std::move(*cluster) : nullptr;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

void expect_monotonic(const FlowRun& f) {
  ASSERT_FALSE(f.samples.empty());
  for (std::size_t i = 1; i < f.samples.size(); ++i) {
    EXPECT_LT(f.samples[i - 1].at, f.samples[i].at);
    EXPECT_LE(f.samples[i - 1].bytes, f.samples[i].bytes);
  }
  EXPECT_EQ(f.samples.back().bytes, f.received);
}

TEST(ClusterFlow, ScenarioFlowInTheLabDeliversEveryByte) {
  Scenario s = load("lab-ipip.yaml");
  scenario::Traffic t;
  t.at = Duration::seconds(12);
  scenario::FlowSpec spec;
  spec.from.kind = scenario::Endpoint::Kind::kPod;
  spec.from.namespace_name = "default";
  spec.from.name = "hello-776c774f98-894tt";
  spec.to.kind = scenario::Endpoint::Kind::kPod;
  spec.to.namespace_name = "default";
  spec.to.name = "hi";
  spec.port = 8080;
  spec.bytes = 3 * kMiB + 17;  // not a multiple of anything
  t.flow = spec;
  s.traffic.push_back(t);
  auto c = make(s);
  ASSERT_NE(c, nullptr);
  c->run();
  ASSERT_EQ(c->flows().size(), 1u);
  const FlowRun& f = c->flows()[0];
  EXPECT_EQ(f.state(), "done") << f.error;
  EXPECT_EQ(f.received, 3 * kMiB + 17);
  EXPECT_EQ(f.bytes, 3 * kMiB + 17);
  EXPECT_EQ(f.start, Time::zero() + Duration::seconds(12));
  ASSERT_TRUE(f.established.has_value());
  ASSERT_TRUE(f.completed.has_value());
  EXPECT_GT(*f.established, f.start);
  EXPECT_GT(*f.completed, *f.established);
  EXPECT_FALSE(f.stalled.has_value());
  // Pods behind tunl0 (1480): each end announces 1480 - 40.
  EXPECT_EQ(f.client_mss, 1440);
  EXPECT_EQ(f.server_mss, 1440);
  EXPECT_EQ(f.retransmissions, 0u);
  EXPECT_EQ(f.command, "curl -o /dev/null http://192.168.136.5:8080/");
  expect_monotonic(f);
  // The ping of the lab is unchanged by the flow beside it.
  ASSERT_EQ(c->pings().size(), 1u);
  EXPECT_EQ(c->pings()[0].received, 5u);
}

TEST(ClusterFlow, RuntimeFlowsFromPodsAndNodes) {
  auto c = make(load("lab-ipip.yaml"));
  ASSERT_NE(c, nullptr);
  c->run_until(Time::zero() + Duration::seconds(15));
  auto bad = c->flow("default/nobody", "default/hi", 80, 1000);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("no running pod 'default/nobody'"), std::string::npos);
  EXPECT_FALSE(c->flow(kHello, "default/hi", 0, 1000).has_value());
  EXPECT_FALSE(c->flow(kHello, "10.9.9.9", 80, 1000).has_value());
  auto a = c->flow(kHello, "default/hi", 80, 200'000);
  ASSERT_TRUE(a.has_value()) << a.error().message;
  // A node with BIRD: the flow shares BIRD's TCP (port 179 keeps working).
  auto b = c->flow("node:user-controller", "192.168.153.193", 8080, 50'000);
  ASSERT_TRUE(b.has_value()) << b.error().message;
  // Smaller than an HTTP header: just the bytes.
  auto tiny = c->flow("default/hi", kHello, 9000, 10);
  ASSERT_TRUE(tiny.has_value()) << tiny.error().message;
  c->run_until(Time::zero() + Duration::seconds(20));
  const auto& flows = c->flows();
  ASSERT_EQ(flows.size(), 3u);
  for (const auto& f : flows) {
    EXPECT_EQ(f.state(), "done") << f.from << " -> " << f.to << ": " << f.error;
    EXPECT_EQ(f.received, f.bytes) << f.from;
    expect_monotonic(f);
  }
  EXPECT_EQ(flows[0].start, Time::zero() + Duration::seconds(15));
  EXPECT_EQ(flows[*a].port, 80);
  // From the node's own stack: its route to the pod is via tunl0 (1480), MSS 1440.
  EXPECT_EQ(flows[*b].client_mss, 1440);
  EXPECT_EQ(c->bgp_state("user-controller", "Mesh_203_248_23_215"), "Established");
}

TEST(ClusterFlow, MtuBlackHoleStallsTheFlowButNotThePings) {
  const auto dir = test::work_dir("flow-blackhole-" + std::to_string(::getpid()));
  auto c = make(load("mtu-blackhole.yaml"), dir);
  ASSERT_NE(c, nullptr);
  c->run();
  // Calico's default: tunl0 and the pods 1500 - 20.
  EXPECT_EQ(c->node_namespace("node-a")->device("tunl0")->mtu(), 1480u);
  EXPECT_EQ(c->pod_namespace("default", "server")->device("eth0")->mtu(), 1480u);
  ASSERT_EQ(c->pings().size(), 2u);
  EXPECT_EQ(c->pings()[0].received, 3u);     // 84-byte packets pass
  EXPECT_EQ(c->pings()[1].transmitted, 3u);  // 1480-byte packets do not
  EXPECT_EQ(c->pings()[1].received, 0u);
  ASSERT_EQ(c->flows().size(), 1u);
  const FlowRun& f = c->flows()[0];
  EXPECT_EQ(f.state(), "stalled");
  EXPECT_TRUE(f.error.empty()) << f.error;
  ASSERT_TRUE(f.established.has_value());  // the handshake is small
  EXPECT_FALSE(f.completed.has_value());
  ASSERT_TRUE(f.stalled.has_value());
  EXPECT_GE(*f.stalled - f.start, Cluster::kFlowStallAfter);
  EXPECT_LT(f.received, 1440u);  // at most the response's small first segment
  EXPECT_GT(f.retransmissions, 0u);
  EXPECT_GT(f.timeouts, 0u);
  // Nobody told the server anything: its MSS is still 1440.
  EXPECT_EQ(f.server_mss, 1440);
  EXPECT_EQ(f.client_mss, 1440);
  expect_monotonic(f);
  // The server's node sent the 1500-byte frames; the fabric dropped them, counted on its NIC.
  const auto* node_b = c->node_namespace("node-b");
  EXPECT_GT(node_b->drops(dataplane::DropReason::kFabricMtu), 0u);
  EXPECT_EQ(node_b->drops(dataplane::DropReason::kMtu), 0u);  // tunl0's 1480 fits: no ICMP
  ASSERT_TRUE(c->finish().has_value());
  const std::string events = slurp(dir / "events.jsonl");
  EXPECT_EQ(count(events, "\"type\":\"flow-start\""), 1u);
  EXPECT_EQ(count(events, "\"type\":\"flow-established\""), 1u);
  EXPECT_EQ(count(events, "\"type\":\"flow-stalled\""), 1u);
  EXPECT_EQ(count(events, "\"type\":\"flow-done\""), 0u);
  EXPECT_GT(count(events, "\"reason\":\"fabric-mtu\""), 0u);
  const std::string summary = slurp(dir / "summary.json");
  EXPECT_NE(summary.find("\"state\": \"stalled\""), std::string::npos) << summary;
  // On the wire: no ICMP fragmentation-needed from anyone, and the 1500-byte IPIP packets
  // carry DF, copied from the inner TCP segment.
  const std::string cap = (dir / "capture.pcapng").string();
  const auto frag_needed = test::run_command(
      "tshark -r '" + cap + "' -Y 'icmp.type == 3 && icmp.code == 4' 2>/dev/null | wc -l");
  EXPECT_EQ(frag_needed.out, "0\n");
  const auto big = test::run_command(
      "tshark -r '" + cap +
      "' -Y 'frame.interface_name == \"node-b/eth0\" && ip.proto == 4 && ip.len == 1500' -T "
      "fields -e ip.flags.df -E occurrence=a -E aggregator=, 2>/dev/null | sort -u");
  EXPECT_TRUE(big.out == "1,1\n" || big.out == "True,True\n") << big.out;
  // None of them reached the client.
  const auto arrived = test::run_command(
      "tshark -r '" + cap +
      "' -Y 'frame.interface_name == \"node-a/client/eth0\" && tcp.len > 1000' 2>/dev/null | "
      "wc -l");
  EXPECT_EQ(arrived.out, "0\n");
}

TEST(ClusterFlow, MtuBlackHoleFixedByIpipMtu1430) {
  const auto dir = test::work_dir("flow-fixed-" + std::to_string(::getpid()));
  auto c = make(load("mtu-blackhole-fixed.yaml"), dir);
  ASSERT_NE(c, nullptr);
  c->run();
  EXPECT_EQ(c->node_namespace("node-b")->device("tunl0")->mtu(), 1430u);
  EXPECT_EQ(c->pod_namespace("default", "client")->device("eth0")->mtu(), 1430u);
  ASSERT_EQ(c->pings().size(), 2u);
  EXPECT_EQ(c->pings()[0].received, 3u);
  EXPECT_EQ(c->pings()[1].received, 3u);  // 1430 bytes: 1450 outside, as much as fits
  ASSERT_EQ(c->flows().size(), 1u);
  const FlowRun& f = c->flows()[0];
  EXPECT_EQ(f.state(), "done") << f.error;
  EXPECT_EQ(f.received, kMiB);
  EXPECT_EQ(f.client_mss, 1390);
  EXPECT_EQ(f.server_mss, 1390);
  EXPECT_EQ(f.retransmissions, 0u);
  expect_monotonic(f);
  EXPECT_EQ(c->node_namespace("node-b")->drops(dataplane::DropReason::kFabricMtu), 0u);
  ASSERT_TRUE(c->finish().has_value());
  const std::string events = slurp(dir / "events.jsonl");
  EXPECT_EQ(count(events, "\"type\":\"flow-done\""), 1u);
  EXPECT_EQ(count(events, "\"type\":\"flow-stalled\""), 0u);
  const std::string cap = (dir / "capture.pcapng").string();
  // One interface at a time: the same TCP stream seen on five interfaces of one file would be
  // "retransmissions" and "overlapping" reassembly to tshark.
  for (const char* iface :
       {"node-a/client/eth0", "node-a/tunl0", "node-a/eth0", "node-b/eth0", "node-b/server/eth0"}) {
    const std::string one = (dir / "one.pcapng").string();
    (void)test::run_command("tshark -r '" + cap + "' -Y 'frame.interface_name == \"" + iface +
                            "\"' -w '" + one + "' 2>/dev/null");
    const auto bad = test::run_command(
        "tshark -r '" + one +
        "' -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -Y '_ws.malformed || "
        "_ws.expert.severity >= error || ip.checksum.status == 0 || tcp.checksum.status == 0 || "
        "tcp.analysis.flags' 2>/dev/null | wc -l");
    EXPECT_EQ(bad.out, "0\n") << iface;
    // The request and the response decode as HTTP: a GET, and a 200 whose Content-Length is
    // the response less its 84-byte header.
    const auto http = test::run_command(
        "tshark -r '" + one +
        "' -Y 'http.request.method == \"GET\" || http.response.code == 200' -T fields "
        "-e http.request.method -e http.response.code -e http.content_length 2>/dev/null");
    EXPECT_EQ(http.out, "GET\t\t\n\t200\t" + std::to_string(kMiB - 84) + "\n") << iface;
  }
  // The largest packet on the wire is 1450 bytes.
  const auto largest = test::run_command(
      "tshark -r '" + cap +
      "' -Y 'frame.interface_name == \"node-b/eth0\" && ip.proto == 4' -T fields -e ip.len "
      "-E occurrence=f 2>/dev/null | sort -n | tail -1");
  EXPECT_EQ(largest.out, "1450\n");
}

std::string fabric_topology(std::string_view link) {
  return std::string(R"(apiVersion: calisim.io/v1
kind: Topology
metadata:
  name: t
spec:
  subnets:
  - name: net
    cidr: 10.0.0.0/24
    link: )") + std::string(link) + R"(
  calicoNode:
    env:
      IP_AUTODETECTION_METHOD: interface=eth0
  nodes:
  - {name: cp, role: control-plane, interfaces: [{name: eth0, address: 10.0.0.10/24, subnet: net}]}
  events:
  - {at: 5s, action: setFabricMtu, subnet: net, mtu: 1400}
)";
}

TEST(ClusterFlow, FabricMtuIsParsedApartFromTheNicsMtu) {
  auto s = parse_scenario(fabric_topology("{mtu: 1500, fabricMtu: 1450}"), "f.yaml");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->subnets[0].link.mtu_bytes, 1500u);
  EXPECT_EQ(s->subnets[0].link.params.mtu_bytes, 1450u);
  EXPECT_EQ(s->nodes[0].interfaces[0].mtu_bytes, 1500u);
  ASSERT_EQ(s->events.size(), 1u);
  EXPECT_EQ(s->events[0].action, scenario::EventAction::kSetFabricMtu);
  EXPECT_EQ(s->events[0].mtu_bytes, 1400u);
  auto bad = parse_scenario(fabric_topology("{mtu: 1500, fabricMtu: 20}"), "f.yaml");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find(
                "f.yaml:9:34: spec.subnets[0].link.fabricMtu: 20 is out of range (68..65535)"),
            std::string::npos)
      << bad.error().message;
}

}  // namespace
}  // namespace calisim::calico
