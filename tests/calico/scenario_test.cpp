#include <calisim/calico/scenario.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace calisim::calico {
namespace {

namespace fs = std::filesystem;
using scenario::EncapsulationMode;
using scenario::EventAction;

fs::path examples_dir() { return fs::path(CALISIM_TEST_DATA_DIR).parent_path().parent_path() / "examples"; }
fs::path fixtures_dir() { return fs::path(CALISIM_TEST_DATA_DIR) / "scenario"; }

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> diagnostics_text(const ScenarioParse& parse) {
  std::vector<std::string> out;
  for (const auto& d : parse.diagnostics) out.push_back(d.to_string());
  return out;
}

Scenario parse_ok(std::string_view text, std::string_view file = "test.yaml") {
  auto parse = check_scenario(text, file);
  EXPECT_TRUE(parse.ok()) << parse.error_text();
  if (!parse.ok()) return Scenario{};
  return std::move(*parse.scenario);
}

Scenario load_example(std::string_view name) {
  auto s = load_scenario(examples_dir() / name);
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
  return s ? std::move(*s) : Scenario{};
}

// A Topology of two workers and a control-plane node on one /24, for tests to add documents to.
std::string topology(std::string_view spec_extra = "", std::string_view env = "") {
  return fmt::format(R"(apiVersion: calisim.io/v1
kind: Topology
metadata:
  name: t
spec:
  subnets:
  - {{name: net, cidr: 10.0.0.0/24}}
  calicoNode:
    env:
      IP_AUTODETECTION_METHOD: interface=eth0
{}  nodes:
  - {{name: cp, role: control-plane, labels: {{zone: a}}, interfaces: [{{name: eth0, address: 10.0.0.10/24, subnet: net}}]}}
  - {{name: w1, labels: {{zone: a, disk: ssd}}, interfaces: [{{name: eth0, address: 10.0.0.11/24, subnet: net}}]}}
  - {{name: w2, labels: {{zone: b}}, interfaces: [{{name: eth0, address: 10.0.0.12/24, subnet: net}}]}}
{})",
                     env, spec_extra);
}

// topology() with another IP_AUTODETECTION_METHOD (same line 10).
std::string with_method(std::string_view method) {
  std::string text = topology();
  const std::string line = "      IP_AUTODETECTION_METHOD: interface=eth0\n";
  text.replace(text.find(line), line.size(), fmt::format("      IP_AUTODETECTION_METHOD: \"{}\"\n", method));
  return text;
}

std::string deployment(std::string_view name, int replicas, std::string_view annotations = "",
                       std::string_view ns = "default") {
  return fmt::format(R"(---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {}
  namespace: {}
  annotations: {{{}}}
spec:
  replicas: {}
  selector: {{matchLabels: {{app: {}}}}}
  template:
    metadata: {{labels: {{app: {}}}}}
    spec: {{containers: [{{name: c, image: busybox}}]}}
)",
                     name, ns, annotations, replicas, name, name);
}

std::string pod(std::string_view name, std::string_view spec, std::string_view annotations = "") {
  return fmt::format(R"(---
apiVersion: v1
kind: Pod
metadata:
  name: {}
  annotations: {{{}}}
spec: {{{}}}
)",
                     name, annotations, spec);
}

std::vector<std::string> pod_names(const Scenario& s) {
  std::vector<std::string> out;
  for (const auto& p : s.pods) out.push_back(p.key());
  return out;
}

std::vector<std::string> pod_nodes(const Scenario& s) {
  std::vector<std::string> out;
  for (const auto& p : s.pods) out.push_back(p.node);
  return out;
}

// ---------------------------------------------------------------------------------------------

TEST(ScenarioExamples, BuiltInLabIsTheExampleFile) {
  EXPECT_EQ(default_lab_scenario_yaml(), read_text(examples_dir() / "lab-ipip.yaml"));
}

TEST(ScenarioExamples, EveryExampleParsesWithoutADiagnostic) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(examples_dir())) {
    if (entry.path().extension() != ".yaml") continue;
    names.insert(entry.path().filename().string());
    auto parse = check_scenario(read_text(entry.path()), entry.path().filename().string());
    EXPECT_TRUE(parse.ok()) << parse.error_text();
    EXPECT_TRUE(parse.diagnostics.empty())
        << entry.path() << ": " << (parse.diagnostics.empty() ? "" : parse.diagnostics[0].to_string());
  }
  const std::set<std::string> expected{"lab-ipip.yaml",         "lab-wrong-autodetect.yaml",
                                       "vxlan-always.yaml",     "ipip-crosssubnet.yaml",
                                       "vxlan-crosssubnet.yaml", "no-encap.yaml",
                                       "route-reflectors.yaml", "lab-link-down.yaml",
                                       "borrowed-ip.yaml"};
  for (const auto& e : expected) EXPECT_TRUE(names.contains(e)) << e;
}

TEST(ScenarioExamples, LabHasTheSeedsNodesPoolPodsAndPing) {
  const Scenario s = parse_ok(default_lab_scenario_yaml(), "lab-ipip.yaml");
  EXPECT_EQ(s.name, "lab-ipip");
  EXPECT_EQ(s.file, "lab-ipip.yaml");
  EXPECT_EQ(s.seed, 1u);
  EXPECT_EQ(s.duration, Duration::seconds(30));

  ASSERT_EQ(s.subnets.size(), 1u);
  EXPECT_EQ(s.subnets[0].cidr.to_string(), "203.248.23.128/25");
  EXPECT_EQ(s.subnets[0].link.params.rate_bps, 1'000'000'000);
  EXPECT_EQ(s.subnets[0].link.params.delay, Duration::microseconds(50));

  ASSERT_EQ(s.nodes.size(), 2u);
  const auto& controller = s.nodes[0];
  const auto& worker = s.nodes[1];
  EXPECT_EQ(controller.name, "user-controller");
  EXPECT_EQ(controller.role, scenario::NodeRole::kControlPlane);
  EXPECT_EQ(worker.name, "user-worker");
  EXPECT_EQ(worker.role, scenario::NodeRole::kWorker);
  for (const auto* node : {&controller, &worker}) {
    ASSERT_EQ(node->interfaces.size(), 2u);
    // enp0s3 first (ifindex order), isolated, on 10.0.2.15/24.
    EXPECT_EQ(node->interfaces[0].name, "enp0s3");
    EXPECT_EQ(node->interfaces[0].address.to_string(), "10.0.2.15/24");
    EXPECT_TRUE(node->interfaces[0].isolated());
    EXPECT_EQ(node->interfaces[0].segment(node->name), node->name + "/enp0s3");
    EXPECT_EQ(node->interfaces[1].name, "enp0s8");
    EXPECT_EQ(node->interfaces[1].segment(node->name), "lab");
    EXPECT_EQ(node->interfaces[1].mtu_bytes, 1500u);
    EXPECT_EQ(node->default_gateway->to_string(), "10.0.2.2");
    EXPECT_EQ(node->labels.at("kubernetes.io/hostname"), node->name);
    const auto& autodetect = node->calico_node.ip_autodetection;
    EXPECT_EQ(autodetect.method, scenario::AutodetectionMethod::kInterface);
    EXPECT_EQ(autodetect.interface_patterns, std::vector<std::string>{"enp0s8"});
    EXPECT_EQ(node->calico_node.ip_mode, scenario::NodeIpMode::kAutodetect);  // the manifest's IP
    EXPECT_EQ(node->calico_node.find("IP_AUTODETECTION_METHOD")->value, "interface=enp0s8");
  }
  EXPECT_EQ(controller.interfaces[1].address.to_string(), "203.248.23.214/25");
  EXPECT_EQ(worker.interfaces[1].address.to_string(), "203.248.23.215/25");
  EXPECT_TRUE(controller.labels.contains("node-role.kubernetes.io/control-plane"));
  EXPECT_FALSE(worker.labels.contains("node-role.kubernetes.io/control-plane"));

  ASSERT_EQ(s.ip_pools.size(), 1u);
  const auto& pool = s.ip_pools[0];
  EXPECT_EQ(pool.name, "default-ipv4-ippool");
  EXPECT_TRUE(pool.from_environment);
  EXPECT_EQ(pool.cidr.to_string(), "192.168.0.0/16");
  EXPECT_EQ(pool.block_size, 26);
  EXPECT_EQ(pool.ipip_mode, EncapsulationMode::kAlways);
  EXPECT_EQ(pool.vxlan_mode, EncapsulationMode::kNever);
  EXPECT_TRUE(pool.nat_outgoing);
  EXPECT_EQ(pool.node_selector, "all()");

  const auto bgp = s.bgp_for("user-worker");
  EXPECT_TRUE(bgp.mesh_enabled());
  EXPECT_EQ(bgp.asn(), 64512u);
  EXPECT_TRUE(s.bgp_peers.empty());

  EXPECT_EQ(pod_names(s), (std::vector<std::string>{
                              "kube-system/coredns-64897985d-vbpn4",
                              "kube-system/calico-kube-controllers-56fcbf9d6b-nlqg2",
                              "kube-system/coredns-64897985d-jgj5s",
                              "default/tmp",
                              "default/hello-776c774f98-894tt",
                              "default/hi",
                          }));
  EXPECT_EQ(pod_nodes(s), (std::vector<std::string>{"user-controller", "user-controller",
                                                    "user-controller", "user-controller",
                                                    "user-worker", "user-controller"}));
  const auto* tmp = s.find_pod("default", "tmp");
  EXPECT_EQ(tmp->create_at, Duration::zero());
  EXPECT_EQ(tmp->delete_at, Duration::seconds(2));
  EXPECT_EQ(s.find_pod("default", "hi")->create_at, Duration::seconds(3));
  const auto* hello = s.find_pod("default", "hello-776c774f98-894tt");
  EXPECT_TRUE(hello->scheduled);
  EXPECT_EQ(hello->owner, "ReplicaSet/hello-776c774f98");
  EXPECT_EQ(hello->labels.at("pod-template-hash"), "776c774f98");
  EXPECT_EQ(hello->labels.at("app"), "hello");
  ASSERT_EQ(s.workloads.size(), 1u);
  EXPECT_EQ(s.workloads[0].replica_set, "hello-776c774f98");
  EXPECT_EQ(s.workloads[0].pods, std::vector<std::string>{"hello-776c774f98-894tt"});

  ASSERT_EQ(s.traffic.size(), 1u);
  ASSERT_TRUE(s.traffic[0].ping.has_value());
  const auto& ping = *s.traffic[0].ping;
  EXPECT_EQ(s.traffic[0].at, Duration::seconds(10));
  EXPECT_EQ(ping.from.to_string(), "default/hello-776c774f98-894tt");
  EXPECT_EQ(ping.to.to_string(), "default/hi");
  EXPECT_EQ(ping.count, 5);
  EXPECT_EQ(ping.interval, Duration::seconds(1));
  EXPECT_EQ(ping.size_bytes, 56u);
  EXPECT_FALSE(ping.ttl.has_value());
  EXPECT_TRUE(s.events.empty());

  // The manifest's FELIX_* values reach Felix on every node.
  const auto felix = s.felix_for("user-controller");
  EXPECT_EQ(felix.default_endpoint_to_host_action, "Accept");
  EXPECT_EQ(felix.ipv6_support, false);
  EXPECT_EQ(felix.health_enabled, true);
  EXPECT_EQ(felix.ipip_mtu, 0);
  EXPECT_FALSE(felix.vxlan_vni.has_value());
}

TEST(ScenarioExamples, WrongAutodetectIsTheLabWithCanReach) {
  const Scenario lab = parse_ok(default_lab_scenario_yaml());
  const Scenario wrong = load_example("lab-wrong-autodetect.yaml");
  EXPECT_EQ(wrong.name, "lab-wrong-autodetect");
  ASSERT_EQ(wrong.nodes.size(), 2u);
  for (const auto& node : wrong.nodes) {
    EXPECT_EQ(node.calico_node.ip_autodetection.method, scenario::AutodetectionMethod::kCanReach);
    EXPECT_EQ(node.calico_node.find("IP_AUTODETECTION_METHOD")->value, "can-reach=8.8.8.8");
  }
  EXPECT_EQ(pod_names(wrong), pod_names(lab));
  EXPECT_EQ(pod_nodes(wrong), pod_nodes(lab));
  EXPECT_EQ(wrong.ip_pools[0].cidr, lab.ip_pools[0].cidr);
}

TEST(ScenarioExamples, VxlanAlwaysRunsWithoutBgp) {
  const Scenario s = load_example("vxlan-always.yaml");
  ASSERT_EQ(s.nodes.size(), 3u);
  for (const auto& node : s.nodes) {
    EXPECT_EQ(node.calico_node.networking_backend, scenario::NetworkingBackend::kVxlan);
    EXPECT_EQ(node.calico_node.ip_autodetection.method, scenario::AutodetectionMethod::kCidr);
    ASSERT_EQ(node.calico_node.ip_autodetection.cidrs.size(), 1u);
    EXPECT_EQ(node.calico_node.ip_autodetection.cidrs[0].to_string(), "10.0.0.0/24");
  }
  ASSERT_EQ(s.ip_pools.size(), 1u);  // the file's pool; none from the environment
  EXPECT_EQ(s.ip_pools[0].name, "vxlan-pool");
  EXPECT_EQ(s.ip_pools[0].vxlan_mode, EncapsulationMode::kAlways);
  EXPECT_EQ(s.ip_pools[0].ipip_mode, EncapsulationMode::kNever);
  EXPECT_FALSE(s.ip_pools[0].from_environment);
  EXPECT_EQ(s.subnets[0].link.params.rate_bps, 10'000'000'000);
  // client and server are pinned; web's three replicas go to workers, fewest pods first.
  EXPECT_EQ(pod_nodes(s), (std::vector<std::string>{"node-2", "node-3", "node-2", "node-3", "node-2"}));
  ASSERT_EQ(s.traffic.size(), 2u);
  ASSERT_TRUE(s.traffic[1].flow.has_value());
  EXPECT_EQ(s.traffic[1].flow->protocol, scenario::TransportProtocol::kTcp);
  EXPECT_EQ(s.traffic[1].flow->port, 8080);
  EXPECT_EQ(s.traffic[1].flow->bytes, 1024u * 1024);
}

TEST(ScenarioExamples, CrossSubnetExamplesJoinTwoRacksWithARouter) {
  for (const auto* name : {"ipip-crosssubnet.yaml", "vxlan-crosssubnet.yaml"}) {
    SCOPED_TRACE(name);
    const Scenario s = load_example(name);
    const bool ipip = std::string_view(name).starts_with("ipip");
    ASSERT_EQ(s.subnets.size(), 2u);
    ASSERT_EQ(s.nodes.size(), 4u);
    ASSERT_EQ(s.routers.size(), 1u);
    EXPECT_EQ(s.routers[0].interfaces.size(), 2u);
    EXPECT_EQ(s.routers[0].interfaces[1].segment("tor"), "rack-b");
    std::map<std::string, int> per_subnet;
    for (const auto& n : s.nodes) ++per_subnet[n.interfaces[0].subnet];
    EXPECT_EQ(per_subnet["rack-a"], 2);
    EXPECT_EQ(per_subnet["rack-b"], 2);
    ASSERT_EQ(s.ip_pools.size(), 1u);
    EXPECT_EQ(s.ip_pools[0].ipip_mode, ipip ? EncapsulationMode::kCrossSubnet : EncapsulationMode::kNever);
    EXPECT_EQ(s.ip_pools[0].vxlan_mode, ipip ? EncapsulationMode::kNever : EncapsulationMode::kCrossSubnet);
    // app-b1 and app-b2 choose rack b by nodeSelector; the scheduler spreads them.
    EXPECT_EQ(pod_nodes(s), (std::vector<std::string>{"a1", "a2", "b1", "b2"}));
    ASSERT_EQ(s.events.size(), 2u);
    EXPECT_EQ(s.events[0].action, EventAction::kBlockProtocol);
    EXPECT_EQ(s.events[0].subnet, "rack-b");
    EXPECT_EQ(s.events[0].protocol.ip_protocol, ipip ? 4 : 17);
    EXPECT_EQ(s.events[0].protocol.port, ipip ? std::nullopt : std::optional<std::uint16_t>(4789));
    EXPECT_EQ(s.events[1].action, EventAction::kUnblockProtocol);
    EXPECT_EQ(s.events[1].at, Duration::seconds(30));
    EXPECT_EQ(s.traffic.size(), 4u);
  }
}

TEST(ScenarioExamples, NoEncapHasNeitherTunnel) {
  const Scenario s = load_example("no-encap.yaml");
  ASSERT_EQ(s.ip_pools.size(), 1u);
  EXPECT_EQ(s.ip_pools[0].ipip_mode, EncapsulationMode::kNever);
  EXPECT_EQ(s.ip_pools[0].vxlan_mode, EncapsulationMode::kNever);
  std::set<std::string> subnets;
  for (const auto& n : s.nodes) subnets.insert(n.interfaces[0].subnet);
  EXPECT_EQ(subnets, std::set<std::string>{"rack"});
  ASSERT_EQ(s.bgp_configurations.size(), 1u);
  EXPECT_EQ(s.bgp_configurations[0].log_severity_screen, "Info");
  EXPECT_TRUE(s.bgp_configurations[0].mesh_enabled());
  EXPECT_EQ(s.traffic[1].ping->from.kind, scenario::Endpoint::Kind::kNode);
  EXPECT_EQ(s.traffic[1].ping->count, 3);
}

TEST(ScenarioExamples, RouteReflectorsReplaceTheMesh) {
  const Scenario s = load_example("route-reflectors.yaml");
  ASSERT_EQ(s.nodes.size(), 20u);
  EXPECT_FALSE(s.bgp_for("node-07").mesh_enabled());
  ASSERT_EQ(s.bgp_peers.size(), 1u);
  EXPECT_EQ(s.bgp_peers[0].name, "peer-with-route-reflectors");
  EXPECT_EQ(s.bgp_peers[0].node_selector, "all()");
  EXPECT_EQ(s.bgp_peers[0].peer_selector, "route-reflector == 'true'");
  EXPECT_FALSE(s.bgp_peers[0].peer_ip.has_value());
  int reflectors = 0;
  for (const auto& n : s.nodes) {
    const bool rr = n.calico.route_reflector_cluster_id.has_value();
    reflectors += rr ? 1 : 0;
    EXPECT_EQ(n.labels.contains("route-reflector"), rr) << n.name;
    if (rr) {
      EXPECT_EQ(n.calico.route_reflector_cluster_id->to_string(), "244.0.0.1");
      EXPECT_EQ(n.labels.at("route-reflector"), "true");
    }
  }
  EXPECT_EQ(reflectors, 2);
  EXPECT_EQ(s.find_node("node-20")->interfaces[0].address.to_string(), "10.20.0.30/24");
}

// ---------------------------------------------------------------------------------------------

TEST(ScenarioDeployment, NamesAreShapedAsKubernetesShapesThem) {
  const Scenario s = parse_ok(topology() + deployment("web", 4));
  ASSERT_EQ(s.workloads.size(), 1u);
  const auto& w = s.workloads[0];
  // The hash is rand.SafeEncodeString of a 32-bit number's decimal digits: only "bcdf456789".
  EXPECT_TRUE(std::regex_match(w.pod_template_hash, std::regex("[bcdf4-9]{1,10}"))) << w.pod_template_hash;
  EXPECT_EQ(w.replica_set, "web-" + w.pod_template_hash);
  ASSERT_EQ(s.pods.size(), 4u);
  std::set<std::string> unique;
  for (const auto& p : s.pods) {
    EXPECT_TRUE(std::regex_match(p.name, std::regex("web-[bcdf4-9]{1,10}-[bcdfghjklmnpqrstvwxz2456789]{5}")))
        << p.name;
    EXPECT_TRUE(p.name.starts_with(w.replica_set + "-"));
    EXPECT_EQ(p.labels.at("pod-template-hash"), w.pod_template_hash);
    EXPECT_EQ(p.owner, "ReplicaSet/" + w.replica_set);
    unique.insert(p.name);
  }
  EXPECT_EQ(unique.size(), 4u);
  EXPECT_EQ(w.pods.size(), 4u);
}

TEST(ScenarioDeployment, NamesDependOnTheSeedAndNothingElse) {
  const std::string text = topology() + deployment("web", 3);
  const Scenario a = parse_ok(text);
  const Scenario b = parse_ok(text);
  EXPECT_EQ(pod_names(a), pod_names(b));
  std::string reseeded = text;
  reseeded.replace(reseeded.find("spec:\n"), 6, "spec:\n  seed: 2\n");
  const Scenario c = parse_ok(reseeded);
  EXPECT_EQ(c.seed, 2u);
  EXPECT_NE(pod_names(a), pod_names(c));
  // Adding a Deployment, before or after, renames nobody else's pods.
  const Scenario d = parse_ok(topology() + deployment("api", 2) + deployment("web", 3));
  std::vector<std::string> web;
  for (const auto& p : d.pods) {
    if (p.owner.starts_with("ReplicaSet/web-")) web.push_back(p.key());
  }
  EXPECT_EQ(web, pod_names(a));
}

TEST(ScenarioDeployment, GoldenNamesForSeedOne) {
  // Fixed forever: the same file must give the same names in every release (captures and
  // interface names hang on them).
  const Scenario s = load_example("vxlan-always.yaml");
  EXPECT_EQ(s.workloads[0].pods, (std::vector<std::string>{"web-75448c88f9-zvtm7", "web-75448c88f9-w42kr",
                                                           "web-75448c88f9-vp7ws"}));
}

TEST(ScenarioDeployment, AnnotationsPinNames) {
  const Scenario pinned = parse_ok(topology() + deployment("hello", 1,
                                                           "calisim.io/pod-template-hash: 776c774f98, "
                                                           "calisim.io/pod-name-suffixes: 894tt"));
  EXPECT_EQ(pod_names(pinned), std::vector<std::string>{"default/hello-776c774f98-894tt"});
  // Pinning one of two suffixes leaves the other exactly what it would have been.
  const Scenario free = parse_ok(topology() + deployment("web", 2));
  const Scenario half = parse_ok(topology() + deployment("web", 2, "calisim.io/pod-name-suffixes: zzzzz"));
  ASSERT_EQ(half.pods.size(), 2u);
  EXPECT_EQ(half.pods[0].name, free.workloads[0].replica_set + "-zzzzz");
  EXPECT_EQ(half.pods[1].name, free.pods[1].name);
  // A pinned hash changes the ReplicaSet's name only.
  const Scenario hashed = parse_ok(topology() + deployment("web", 2, "calisim.io/pod-template-hash: 5d4f8b9c6"));
  EXPECT_EQ(hashed.workloads[0].replica_set, "web-5d4f8b9c6");
  EXPECT_EQ(hashed.pods[1].name.substr(hashed.pods[1].name.size() - 5),
            free.pods[1].name.substr(free.pods[1].name.size() - 5));
}

TEST(ScenarioDeployment, ReplicaSetPodsHaveOneSuffix) {
  const Scenario s = parse_ok(topology() + R"(---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: frontend
  namespace: kube-system
  annotations: {calisim.io/pod-name-suffixes: "b2c4d, 9xz7q"}
spec:
  replicas: 3
  selector:
    matchExpressions:
    - {key: tier, operator: In, values: [frontend]}
  template:
    metadata: {labels: {tier: frontend}}
)");
  ASSERT_EQ(s.pods.size(), 3u);
  EXPECT_EQ(s.pods[0].key(), "kube-system/frontend-b2c4d");
  EXPECT_EQ(s.pods[1].key(), "kube-system/frontend-9xz7q");
  EXPECT_TRUE(std::regex_match(s.pods[2].name, std::regex("frontend-[bcdfghjklmnpqrstvwxz2456789]{5}")));
  EXPECT_EQ(s.pods[0].owner, "ReplicaSet/frontend");
  EXPECT_FALSE(s.pods[0].labels.contains("pod-template-hash"));
  EXPECT_EQ(s.workloads[0].kind, scenario::WorkloadKind::kReplicaSet);
  EXPECT_TRUE(s.workloads[0].pod_template_hash.empty());
}

TEST(ScenarioDeployment, LongNamesAreCutLikeKubernetesCutsThem) {
  const std::string name(60, 'a');
  const Scenario s = parse_ok(topology() + deployment(name, 1, "calisim.io/pod-template-hash: 5d4f8b9c6"));
  ASSERT_EQ(s.pods.size(), 1u);
  // names.SimpleNameGenerator keeps 58 characters of "<replicaset>-" and adds 5.
  EXPECT_EQ(s.pods[0].name.size(), 63u);
  EXPECT_EQ(s.pods[0].name.substr(0, 58), name.substr(0, 58));
}

// ---------------------------------------------------------------------------------------------

TEST(ScenarioScheduling, WorkersFirstThenFewestPodsThenName) {
  const Scenario s = parse_ok(topology() + pod("a", "nodeName: w2") + deployment("web", 4));
  // w2 already has a: w1, then w1 and w2 tie at one each -> w1 by name, then w2, then w1.
  EXPECT_EQ(pod_nodes(s), (std::vector<std::string>{"w2", "w1", "w1", "w2", "w1"}));
  for (std::size_t i = 1; i < s.pods.size(); ++i) EXPECT_TRUE(s.pods[i].scheduled);
  EXPECT_FALSE(s.pods[0].scheduled);
}

TEST(ScenarioScheduling, OnlyLivePodsCount) {
  const Scenario s = parse_ok(topology() + pod("old", "nodeName: w1", "calisim.io/delete-at: 5s") +
                              pod("new", "", "calisim.io/create-at: 5s") +
                              pod("early", "", ""));
  // "early" is created at 0s while "old" still runs on w1: w2. "new" comes at 5s, when "old" is
  // gone: w1 and w2 then hold 0 and 1 pods.
  EXPECT_EQ(pod_names(s), (std::vector<std::string>{"default/old", "default/early", "default/new"}));
  EXPECT_EQ(pod_nodes(s), (std::vector<std::string>{"w1", "w2", "w1"}));
}

TEST(ScenarioScheduling, NodeSelectorsAndTheControlPlane) {
  const Scenario s = parse_ok(topology() + pod("fast", "nodeSelector: {disk: ssd}") +
                              pod("zonal", "nodeSelector: {zone: a}") + pod("zonal2", "nodeSelector: {zone: a}") +
                              pod("boss", "nodeSelector: {node-role.kubernetes.io/control-plane: ''}"));
  // Workers come before the control plane whatever their load; the control plane only when the
  // selector leaves nothing else.
  EXPECT_EQ(pod_nodes(s), (std::vector<std::string>{"w1", "w1", "w1", "cp"}));
}

TEST(ScenarioScheduling, ANameMayReturnOnceThePodIsGone) {
  const Scenario s = parse_ok(topology() + pod("tmp", "nodeName: w1", "calisim.io/delete-at: 5s") +
                              pod("tmp", "nodeName: w2", "calisim.io/create-at: 5s"));
  ASSERT_EQ(s.pods.size(), 2u);
  EXPECT_EQ(s.pods[1].node, "w2");
  auto clash = check_scenario(topology() + pod("tmp", "nodeName: w1", "calisim.io/delete-at: 5s") +
                                  pod("tmp", "nodeName: w2", "calisim.io/create-at: 4s"),
                              "t.yaml");
  EXPECT_EQ(clash.error_text(), "t.yaml:23:1: pod default/tmp already exists at 4s (defined on line 16)");
}

// ---------------------------------------------------------------------------------------------
// Every problem, at its place, with its exact words.

std::vector<std::string> fixture(std::string_view name) {
  return diagnostics_text(check_scenario(read_text(fixtures_dir() / name), name));
}

TEST(ScenarioErrors, TopologyFixture) {
  EXPECT_EQ(fixture("bad-topology.yaml"), (std::vector<std::string>{
      R"(bad-topology.yaml:11:18: spec.subnets[0].link.rate: rate "100" has no unit (tc would read bit/s; write e.g. "100Mbit"))",
      R"(bad-topology.yaml:11:41: spec.subnets[0].link.loss: "2" is not a percentage (want e.g. 1%, 0.5%))",
      R"(bad-topology.yaml:16:16: spec.nodes[0].interfaces[0].address: "203.248.23.314/25" is not an IPv4 prefix (want a.b.c.d/len))",
      R"(bad-topology.yaml:23:15: spec.nodes[1].interfaces[0].subnet: no subnet named "labb" (did you mean "lab"?))",
      R"(bad-topology.yaml:25:16: spec.nodes[1].interfaces[1].address: 10.1.2.3/24 is outside subnet "lab" (203.248.23.128/25))",
      R"(bad-topology.yaml:27:12: spec.nodes[1].interfaces[1].mtu: want an integer, got the string "9000" (drop the quotes))",
      R"(bad-topology.yaml:28:11: spec.nodes[2].name: duplicate node name "user-worker" (already used on line 18))",
      R"(bad-topology.yaml:29:5: spec.nodes[2].rol: unknown field "rol" (did you mean "role"?))",
      R"(bad-topology.yaml:32:14: spec.nodes[2].interfaces[1].name: user-worker already has an interface named "enp0s8" (line 31))",
      R"(bad-topology.yaml:33:21: spec.nodes[2].defaultGateway: gateway 192.0.2.1 is not on any subnet of user-worker's interfaces)",
      R"(bad-topology.yaml:35:38: spec.events[0].node: no node or router named "user-workr" (did you mean "user-worker"?))",
      R"(bad-topology.yaml:36:5: spec.events[1].loss: required field is missing)",
      R"(bad-topology.yaml:37:60: spec.events[2].protocol: "gre" is not a protocol (want ipip, vxlan, wireguard, bgp, icmp, tcp, udp, esp, an IP protocol number 0..255, udp/<port> or tcp/<port>))",
  }));
}

TEST(ScenarioErrors, EnvironmentFixture) {
  EXPECT_EQ(fixture("bad-env.yaml"), (std::vector<std::string>{
      R"(bad-env.yaml:9:29: spec.calicoNode.env.CALICO_IPV4POOL_IPIP: "Alway" is not an IPIP mode (want Always, CrossSubnet or Never) (did you mean "Always"?))",
      R"(bad-env.yaml:10:35: spec.calicoNode.env.CALICO_IPV4POOL_BLOCK_SIZE: "33" is not an IPv4 block size (want 20..32))",
      R"(bad-env.yaml:11:32: spec.calicoNode.env.IP_AUTODETECTION_METHOD: "interfaces=enp0s8" is not an autodetection method (want first-found, interface=REGEX, skip-interface=REGEX, can-reach=DESTINATION, cidr=CIDR or kubernetes-internal-ip) (did you mean "interface="?))",
      R"(bad-env.yaml:12:24: spec.calicoNode.env.FELIX_IPINIPMTU: "fourteen-eighty" is not an integer)",
      R"(bad-env.yaml:13:24: warning: spec.calicoNode.env.FELIX_VXLANVNII: Felix has no parameter VXLANVNII; Felix ignores it (did you mean "FELIX_VXLANVNI"?))",
      R"(bad-env.yaml:14:34: spec.calicoNode.env.CALICO_NETWORKING_BACKEND: "birdd" is not a networking backend (want bird, vxlan or none) (did you mean "bird"?))",
      R"(bad-env.yaml:15:19: warning: spec.calicoNode.env.MY_SETTING: calico-node does not read MY_SETTING; kept, but it changes nothing)",
      R"(bad-env.yaml:22:13: spec.nodes[0].calicoNode.env.IP: "10.0.0.300" is not an IPv4 address (want autodetect, none, or a.b.c.d[/len]))",
      R"(bad-env.yaml:23:13: spec.nodes[0].calicoNode.env.AS: "0" is not an AS number (want 1..4294967295 or asdot a.b))",
      R"(bad-env.yaml:24:31: warning: spec.nodes[0].calicoNode.env.CALICO_IPV4POOL_CIDR: CALICO_IPV4POOL_CIDR is ignored here: the default pool is created once for the cluster, from spec.calicoNode.env)",
  }));
}

TEST(ScenarioErrors, CalicoResourcesFixture) {
  EXPECT_EQ(fixture("bad-calico.yaml"), (std::vector<std::string>{
      R"(bad-calico.yaml:25:9: spec.cidr: IPPool "pool-b" (10.244.128.0/17) overlaps IPPool "pool-a" (10.244.0.0/16))",
      R"(bad-calico.yaml:33:14: spec.blockSize: blockSize 19 is out of range: it must be between 20 and 32 for IPv4 pools)",
      R"(bad-calico.yaml:34:13: spec.ipipMode: "always" is not an IPIP mode (want Always, CrossSubnet or Never) (did you mean "Always"?))",
      R"(bad-calico.yaml:36:16: spec.natOutgoing: want true or false, got "yes")",
      R"(bad-calico.yaml:43:9: spec.cidr: "172.17.0.1/16" has host bits set (did you mean "172.17.0.0/16"?))",
      R"(bad-calico.yaml:50:3: spec.node: node must be empty when nodeSelector is specified)",
      R"(bad-calico.yaml:52:3: spec.asNumber: required field is missing: BIRD needs the AS number of a peer given by peerIP)",
      R"(bad-calico.yaml:57:9: metadata.name: FelixConfiguration "node.node-2" is for node "node-2", which is not in the Topology (did you mean "node.node-1"?))",
      R"(bad-calico.yaml:59:13: spec.vxlanVNI: 0 is out of range (1..16777215))",
      R"(bad-calico.yaml:60:3: warning: spec.bpfLogLevel: bpfLogLevel is not modelled by calisim; ignored)",
      R"(bad-calico.yaml:67:3: spec: cannot disable strictAffinity and autoAllocateBlocks at the same time)",
      R"(bad-calico.yaml:71:7: kind: unknown kind "IPPol" for apiVersion projectcalico.org/v3 (did you mean "IPPool"?))",
  }));
}

TEST(ScenarioErrors, PodsAndTrafficFixture) {
  EXPECT_EQ(fixture("bad-pods.yaml"), (std::vector<std::string>{
      R"(bad-pods.yaml:14:18: spec.traffic[0].ping.from: pod default/tmp is deleted at 5s, before this starts at 10s)",
      R"(bad-pods.yaml:14:35: spec.traffic[0].ping.to: default/web is a Deployment, not a pod: name one of its pods (calisim.io/pod-name-suffixes pins their names))",
      R"(bad-pods.yaml:16:35: spec.traffic[1].ping.to: "hi" is not an endpoint (want <namespace>/<pod>, node:<name> or an IPv4 address) (did you mean "default/hi"?))",
      R"(bad-pods.yaml:31:14: metadata.namespace: namespace "team-a" does not exist (add a Namespace document))",
      R"(bad-pods.yaml:40:17: spec.nodeSelector: no node matches nodeSelector {disk=ssd}: pod default/picky would stay Pending)",
      R"(bad-pods.yaml:48:35: metadata.annotations.calisim.io/pod-name-suffixes: "abcde" is not a pod name suffix (5 of "bcdfghjklmnpqrstvwxz2456789"))",
      R"(bad-pods.yaml:55:7: spec.template.metadata.labels: the template's labels do not match spec.selector: `selector` does not match template `labels`)",
      R"(bad-pods.yaml:62:13: spec.nodeName: no node named "node-3" (did you mean "node-1"?))",
  }));
}

TEST(ScenarioErrors, SyntaxErrorDoesNotHideTheOtherDocuments) {
  EXPECT_EQ(fixture("syntax-error.yaml"), (std::vector<std::string>{
      "syntax-error.yaml:10:1: YAML syntax error: end of map flow not found",
      "syntax-error.yaml:17:14: spec.blockSize: blockSize 40 is out of range: it must be between 20 and 32 for IPv4 pools",
  }));
}

TEST(ScenarioErrors, DocumentsAndKinds) {
  EXPECT_EQ(diagnostics_text(check_scenario("# nothing\n", "e.yaml")),
            std::vector<std::string>{"e.yaml: no Topology document (apiVersion: calisim.io/v1, kind: "
                                     "Topology): a scenario needs its nodes"});
  const std::string two = topology() + "---\n" + topology();
  auto parse = check_scenario(two, "two.yaml");
  ASSERT_FALSE(parse.ok());
  EXPECT_EQ(parse.errors()[0].to_string(),
            "two.yaml:16:1: a second Topology document (the first is on line 1); a scenario has exactly one");
  EXPECT_EQ(check_scenario(topology() + "---\napiVersion: projectcalico.org/v4\nkind: IPPool\n", "k.yaml").error_text(),
            R"(k.yaml:16:13: apiVersion: unknown apiVersion "projectcalico.org/v4" (did you mean "projectcalico.org/v3"?))");
  EXPECT_EQ(check_scenario(topology() + "---\napiVersion: v1\nkind: Deployment\n", "k.yaml").error_text(),
            R"(k.yaml:17:7: kind: unknown kind "Deployment" for apiVersion v1 (Deployment is apps/v1))");
  EXPECT_EQ(check_scenario(topology() + "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n", "k.yaml").error_text(),
            "k.yaml:17:7: kind: NetworkPolicy (networking.k8s.io/v1) is not supported by calisim yet");
  EXPECT_EQ(check_scenario(topology() + "---\n- a\n- b\n", "k.yaml").error_text(),
            "k.yaml:16:1: a document must be a mapping with apiVersion and kind, got a list");
}

TEST(ScenarioErrors, StrictDecoding) {
  auto text = topology() + R"(---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: p}
spec:
  cidr: 10.244.0.0/16
  blockSize: "26"
  disabled: false
  disabled: true
  natOutgoing: [true]
extra: 1
)";
  EXPECT_EQ(check_scenario(text, "s.yaml").error_text(),
            "s.yaml:21:14: spec.blockSize: want an integer, got the string \"26\" (drop the quotes)\n"
            "s.yaml:23:3: spec.disabled: duplicate field \"disabled\" (first given on line 22)\n"
            "s.yaml:24:16: spec.natOutgoing: want true or false, got a list\n"
            "s.yaml:25:1: extra: unknown field \"extra\"");
}

TEST(ScenarioErrors, ParseScenarioCarriesEveryError) {
  const std::string text = read_text(fixtures_dir() / "bad-pods.yaml");
  auto result = parse_scenario(text, "bad-pods.yaml");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(result.error().message, check_scenario(text, "bad-pods.yaml").error_text());
  EXPECT_EQ(std::count(result.error().message.begin(), result.error().message.end(), '\n'), 7);
}

TEST(ScenarioLoad, ReadsFilesAndReportsMissingOnes) {
  auto missing = load_scenario(fixtures_dir() / "no-such-file.yaml");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, Errc::kIo);
  const auto path = examples_dir() / "no-encap.yaml";
  auto loaded = load_scenario(path);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->file, path.string());
  auto bad = load_scenario(fixtures_dir() / "bad-pods.yaml");
  ASSERT_FALSE(bad.has_value());
  EXPECT_TRUE(bad.error().message.starts_with((fixtures_dir() / "bad-pods.yaml").string() + ":14:18: "))
      << bad.error().message;
}

// ---------------------------------------------------------------------------------------------

TEST(ScenarioEnvironment, ManifestDefaultsUnderTheFile) {
  const Scenario s = parse_ok(topology());
  const auto& settings = s.nodes[0].calico_node;
  EXPECT_EQ(settings.ip_mode, scenario::NodeIpMode::kAutodetect);
  EXPECT_EQ(settings.networking_backend, scenario::NetworkingBackend::kBird);
  EXPECT_EQ(settings.cluster_type, (std::vector<std::string>{"k8s", "bgp"}));
  EXPECT_EQ(settings.find("CALICO_IPV4POOL_IPIP")->source, scenario::EnvSource::kManifest);
  EXPECT_EQ(settings.find("IP_AUTODETECTION_METHOD")->source, scenario::EnvSource::kGlobal);
  EXPECT_EQ(settings.find("IP_AUTODETECTION_METHOD")->where.line, 10);
  // The stock manifest's pool: IPIP Always (its CALICO_IPV4POOL_IPIP), 192.168.0.0/16.
  ASSERT_EQ(s.ip_pools.size(), 1u);
  EXPECT_EQ(s.ip_pools[0].ipip_mode, EncapsulationMode::kAlways);
  EXPECT_EQ(s.ip_pools[0].cidr.to_string(), "192.168.0.0/16");
}

TEST(ScenarioEnvironment, NodeEnvOverridesGlobalAndFelixLayers) {
  const std::string text = R"(apiVersion: calisim.io/v1
kind: Topology
metadata: {name: layers}
spec:
  subnets: [{name: net, cidr: 10.0.0.0/24}]
  calicoNode:
    env:
      FELIX_VXLANVNI: "5000"
      FELIX_ROUTEREFRESHINTERVAL: "1.5"
      FELIX_IPINIPENABLED: "yes"
      FELIX_CHAININSERTMODE: APPEND
  nodes:
  - {name: w1, interfaces: [{name: eth0, address: 10.0.0.11/24, subnet: net}]}
  - name: w2
    interfaces: [{name: eth0, address: 10.0.0.12/24, subnet: net}]
    calicoNode:
      env:
      - {name: IP, value: 10.0.0.12}
      - {name: AS, value: "1.10"}
      - {name: FELIX_VXLANVNI, value: "7000"}
      - {name: IP_AUTODETECTION_METHOD, value: "skip-interface=eth1, docker.*"}
---
apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata: {name: default}
spec: {vxlanVNI: 4097, vxlanPort: 4790, routeRefreshInterval: 30s, wireguardEnabled: true}
---
apiVersion: crd.projectcalico.org/v1
kind: FelixConfiguration
metadata: {name: node.w2}
spec: {vxlanPort: 8472, wireguardEnabled: false}
)";
  const Scenario s = parse_ok(text);
  const auto* w2 = s.find_node("w2");
  ASSERT_NE(w2, nullptr);
  EXPECT_EQ(w2->calico_node.ip_mode, scenario::NodeIpMode::kFixed);
  EXPECT_EQ(w2->calico_node.ip->to_string(), "10.0.0.12/32");
  EXPECT_FALSE(w2->calico_node.ip_has_length);
  EXPECT_EQ(w2->calico_node.as_number, (1u << 16) + 10);
  EXPECT_EQ(w2->calico_node.ip_autodetection.method, scenario::AutodetectionMethod::kSkipInterface);
  EXPECT_EQ(w2->calico_node.ip_autodetection.interface_patterns,
            (std::vector<std::string>{"eth1", "docker.*"}));
  EXPECT_EQ(w2->calico_node.find("FELIX_VXLANVNI")->value, "7000");
  EXPECT_EQ(w2->calico_node.find("FELIX_VXLANVNI")->source, scenario::EnvSource::kNode);

  const auto f1 = s.felix_for("w1");
  EXPECT_EQ(f1.vxlan_vni, 5000);     // env beats FelixConfiguration
  EXPECT_EQ(f1.vxlan_port, 4790);    // FelixConfiguration default
  EXPECT_EQ(f1.route_refresh_interval, Duration::milliseconds(1500));  // env: seconds
  EXPECT_EQ(f1.ipip_enabled, true);
  EXPECT_EQ(f1.chain_insert_mode, "Append");
  EXPECT_EQ(f1.wireguard_enabled, true);
  const auto f2 = s.felix_for("w2");
  EXPECT_EQ(f2.vxlan_vni, 7000);     // the node's own env
  EXPECT_EQ(f2.vxlan_port, 8472);    // node.w2 beats default
  EXPECT_EQ(f2.wireguard_enabled, false);
  EXPECT_EQ(f2.route_refresh_interval, Duration::milliseconds(1500));
  ASSERT_EQ(s.felix_configurations.size(), 2u);
  EXPECT_EQ(s.felix_configurations[0].name, "default");
  EXPECT_EQ(s.felix_configurations[0].spec.route_refresh_interval, Duration::seconds(30));
}

TEST(ScenarioEnvironment, AutodetectionMethodsAndIpValues) {
  struct Case {
    std::string value;
    scenario::AutodetectionMethod method;
  };
  for (const auto& c : std::vector<Case>{
           {"", scenario::AutodetectionMethod::kFirstFound},
           {"first-found", scenario::AutodetectionMethod::kFirstFound},
           {"interface=eth0,enp0s.*", scenario::AutodetectionMethod::kInterface},
           {"can-reach=8.8.8.8", scenario::AutodetectionMethod::kCanReach},
           {"can-reach=www.google.com", scenario::AutodetectionMethod::kCanReach},
           {"cidr=10.0.0.0/24, 192.168.0.0/16", scenario::AutodetectionMethod::kCidr},
           {"kubernetes-internal-ip", scenario::AutodetectionMethod::kKubernetesInternalIp}}) {
    const Scenario s = parse_ok(with_method(c.value));
    EXPECT_EQ(s.nodes[0].calico_node.ip_autodetection.method, c.method) << c.value;
  }
  std::string text = topology("", "      IP: 10.0.0.10/24\n");
  EXPECT_EQ(parse_ok(text).nodes[0].calico_node.ip->to_string(), "10.0.0.10/24");
  EXPECT_TRUE(parse_ok(text).nodes[0].calico_node.ip_has_length);
  EXPECT_EQ(parse_ok(topology("", "      IP: none\n")).nodes[0].calico_node.ip_mode, scenario::NodeIpMode::kNone);
  EXPECT_EQ(parse_ok(topology("", "      IP: ''\n")).nodes[0].calico_node.ip_mode,
            scenario::NodeIpMode::kAutodetectIfUnset);
  // Calico masks the CIDRs it matches interfaces against.
  const Scenario cidr = parse_ok(with_method("cidr=10.0.0.7/24"));
  EXPECT_EQ(cidr.nodes[0].calico_node.ip_autodetection.cidrs.at(0).to_string(), "10.0.0.0/24");
  EXPECT_EQ(check_scenario(with_method("interface=eth[0"), "a.yaml").error_text(),
            R"(a.yaml:10:32: spec.calicoNode.env.IP_AUTODETECTION_METHOD: "eth[0" is not a valid regular expression in "interface=eth[0")");
}

TEST(ScenarioPools, DefaultPoolAvoidsTheHostsAddresses) {
  std::string text = topology();
  for (const auto* from : {"10.0.0.0/24", "10.0.0.10/24", "10.0.0.11/24", "10.0.0.12/24"}) {
    const std::string f(from);
    const std::string to = "192.168.0." + f.substr(f.rfind('.') + 1);
    text.replace(text.find(f), f.size(), to);
  }
  const Scenario s = parse_ok(text);
  ASSERT_EQ(s.ip_pools.size(), 1u);
  EXPECT_EQ(s.ip_pools[0].cidr.to_string(), "172.16.0.0/16");  // GetDefaultIPv4Pool's fallback
}

TEST(ScenarioPools, EnvironmentModesAndSwitches) {
  const Scenario s = parse_ok(topology("", R"(      CALICO_IPV4POOL_CIDR: 10.96.0.0/12
      CALICO_IPV4POOL_BLOCK_SIZE: "24"
      CALICO_IPV4POOL_IPIP: "off"
      CALICO_IPV4POOL_VXLAN: cross-subnet
      CALICO_IPV4POOL_NAT_OUTGOING: "F"
      CALICO_IPV4POOL_NODE_SELECTOR: zone == 'a'
      CALICO_IPV4POOL_DISABLE_BGP_EXPORT: "1"
)"));
  ASSERT_EQ(s.ip_pools.size(), 1u);
  const auto& p = s.ip_pools[0];
  EXPECT_EQ(p.cidr.to_string(), "10.96.0.0/12");
  EXPECT_EQ(p.block_size, 24);
  EXPECT_EQ(p.ipip_mode, EncapsulationMode::kNever);
  EXPECT_EQ(p.vxlan_mode, EncapsulationMode::kCrossSubnet);
  EXPECT_FALSE(p.nat_outgoing);
  EXPECT_TRUE(p.disable_bgp_export);
  EXPECT_EQ(p.node_selector, "zone == 'a'");
  EXPECT_EQ(p.where.line, 11);  // where CALICO_IPV4POOL_CIDR is written

  auto none = check_scenario(topology("", "      NO_DEFAULT_POOLS: \"true\"\n") + pod("p", ""), "n.yaml");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none.scenario->ip_pools.empty());
  EXPECT_EQ(diagnostics_text(none),
            std::vector<std::string>{"n.yaml:1:1: warning: there is no IP pool (NO_DEFAULT_POOLS or "
                                     "CALICO_IPV4POOL_CIDR=none, and no IPPool): pods will get no addresses"});
  EXPECT_EQ(check_scenario(topology("", "      NO_DEFAULT_POOLS: \"true\"\n      CALICO_IPV4POOL_CIDR: 10.1.0.0/16\n"), "n.yaml").error_text(),
            "n.yaml:12:29: spec.calicoNode.env.CALICO_IPV4POOL_CIDR: NO_DEFAULT_POOLS is true and "
            "CALICO_IPV4POOL_CIDR is set: calico-node refuses to start with both");
}

TEST(ScenarioPools, FilePoolsReplaceTheDefaultPool) {
  auto parse = check_scenario(topology("", "      CALICO_IPV4POOL_CIDR: 10.1.0.0/16\n") + R"(---
apiVersion: crd.projectcalico.org/v1
kind: IPPool
metadata: {name: mine}
spec: {cidr: 10.244.0.0/16, blockSize: 28, vxlanMode: CrossSubnet, allowedUses: [Workload]}
)", "f.yaml");
  ASSERT_TRUE(parse.ok()) << parse.error_text();
  const auto& pools = parse.scenario->ip_pools;
  ASSERT_EQ(pools.size(), 1u);
  EXPECT_EQ(pools[0].name, "mine");
  EXPECT_EQ(pools[0].block_size, 28);
  EXPECT_EQ(pools[0].allowed_uses, std::vector<scenario::AllowedUse>{scenario::AllowedUse::kWorkload});
  EXPECT_EQ(diagnostics_text(parse),
            std::vector<std::string>{"f.yaml:11:29: warning: spec.calicoNode.env.CALICO_IPV4POOL_CIDR: "
                                     "CALICO_IPV4POOL_CIDR is ignored: the file has IPPool resources, "
                                     "and calico-node creates its default pool only when there is none"});
  EXPECT_EQ(parse.scenario->warnings, parse.diagnostics);  // a parsed scenario keeps its warnings
}

TEST(ScenarioCalico, BgpNodesListsAndIpam) {
  const Scenario s = parse_ok(topology() + R"(---
apiVersion: v1
kind: List
items:
- apiVersion: projectcalico.org/v3
  kind: BGPConfiguration
  metadata: {name: default}
  spec: {asNumber: 65000, nodeToNodeMeshEnabled: false, listenPort: 1179, serviceClusterIPs: [{cidr: 10.96.0.0/12}]}
- apiVersion: projectcalico.org/v3
  kind: BGPConfiguration
  metadata: {name: node.w1}
  spec: {logSeverityScreen: debug, listenPort: 2179}
- apiVersion: projectcalico.org/v3
  kind: BGPPeer
  metadata: {name: tor}
  spec: {node: w1, peerIP: "10.0.0.1:1790", asNumber: 64999, keepOriginalNextHop: true}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: w2
  labels: {rack: r7}
spec:
  bgp: {ipv4Address: 10.0.0.12/24, asNumber: 65001, ipv4IPIPTunnelAddr: 192.168.7.0}
  vxlanTunnelMACAddr: "66:f9:37:c3:7e:94"
---
apiVersion: crd.projectcalico.org/v1
kind: IPAMConfig
metadata: {name: default}
spec: {strictAffinity: true, maxBlocksPerHost: 4, autoAllocateBlocks: false}
)");
  const auto global = s.bgp_for("cp");
  EXPECT_EQ(global.asn(), 65000u);
  EXPECT_FALSE(global.mesh_enabled());
  EXPECT_EQ(global.listen_port, 1179);
  ASSERT_EQ(global.service_cluster_ips.size(), 1u);
  const auto w1 = s.bgp_for("w1");
  EXPECT_EQ(w1.name, "node.w1");
  EXPECT_EQ(w1.listen_port, 2179);
  EXPECT_EQ(w1.log_severity_screen, "Debug");
  EXPECT_EQ(w1.asn(), 65000u);
  ASSERT_EQ(s.bgp_peers.size(), 1u);
  EXPECT_EQ(s.bgp_peers[0].peer_ip->to_string(), "10.0.0.1");
  EXPECT_EQ(s.bgp_peers[0].peer_port, 1790);
  EXPECT_EQ(s.bgp_peers[0].as_number, 64999u);
  EXPECT_TRUE(s.bgp_peers[0].keep_original_next_hop);
  const auto* w2 = s.find_node("w2");
  EXPECT_EQ(w2->labels.at("rack"), "r7");
  EXPECT_EQ(w2->labels.at("zone"), "b");
  EXPECT_EQ(w2->calico.ipv4_address->to_string(), "10.0.0.12/24");
  EXPECT_EQ(w2->calico.as_number, 65001u);
  EXPECT_EQ(w2->calico.ipv4_ipip_tunnel_addr->to_string(), "192.168.7.0");
  EXPECT_EQ(w2->calico.vxlan_tunnel_mac_addr->to_string(), "66:f9:37:c3:7e:94");
  EXPECT_TRUE(s.ipam.strict_affinity);
  EXPECT_FALSE(s.ipam.auto_allocate_blocks);
  EXPECT_EQ(s.ipam.max_blocks_per_host, 4);
}

TEST(ScenarioCalico, ReferencesToNodesAreChecked) {
  const std::string text = topology() + R"(---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: w3}
spec: {bgp: {asNumber: 65001}}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: p}
spec: {node: wl, peerIP: 10.0.0.1, asNumber: 64999, password: {secretKeyRef: {name: s, key: k}}}
)";
  const auto parse = check_scenario(text, "r.yaml");
  EXPECT_EQ(parse.error_text(),
            // Two-letter names get no guess: "w3" is as near to w1 as to w2.
            "r.yaml:18:18: metadata.name: no node named \"w3\" in the Topology\n"
            "r.yaml:24:14: spec.node: no node named \"wl\"");
  EXPECT_EQ(diagnostics_text(parse)[2],
            "r.yaml:24:53: warning: spec.password: password is ignored: calisim does not model TCP "
            "MD5 passwords");
}

TEST(ScenarioTrafficAndEvents, SortedByTimeWithTheirParameters) {
  const Scenario s = parse_ok(topology(R"(  routers:
  - {name: gw, interfaces: [{name: eth0, address: 10.0.0.1/24, subnet: net}, {name: eth1, address: 10.9.0.1/24, subnet: far}]}
  traffic:
  - {at: 20s, ping: {from: node:w1, to: 8.8.8.8, ttl: 3, size: 1472, interval: 200ms}}
  - {at: 5s, flow: {from: default/a, to: node:gw, protocol: udp, port: 53, bytes: 1500}}
  - {at: 5s, ping: {from: default/a, to: node:cp}}
  events:
  - {at: 9s, action: setMtu, node: w1, interface: eth0, mtu: 1400}
  - {at: 3s, action: setRate, subnet: net, rate: 10Mbit}
  - {at: 3s, action: setDelay, subnet: net, delay: 20ms}
  - {at: 4s, action: blockProtocol, subnet: far, protocol: udp/4789}
  - {at: 4s, action: linkDown, node: gw, interface: eth1}
  - {at: 8s, action: nodeCrash, node: w2}
  - {at: 8s, action: setLoss, subnet: net, loss: 0.5%}
)").replace(topology().find("  subnets:\n") + 11, 0, "  - {name: far, cidr: 10.9.0.0/24}\n") + pod("a", "nodeName: w2"));
  ASSERT_EQ(s.traffic.size(), 3u);
  EXPECT_EQ(s.traffic[0].at, Duration::seconds(5));
  ASSERT_TRUE(s.traffic[0].flow.has_value());
  EXPECT_EQ(s.traffic[0].flow->protocol, scenario::TransportProtocol::kUdp);
  EXPECT_EQ(s.traffic[0].flow->to.to_string(), "node:gw");
  EXPECT_EQ(s.traffic[1].ping->to.to_string(), "node:cp");
  const auto& far = *s.traffic[2].ping;
  EXPECT_EQ(far.to.kind, scenario::Endpoint::Kind::kAddress);
  EXPECT_EQ(far.to.address.to_string(), "8.8.8.8");
  EXPECT_EQ(far.ttl, 3);
  EXPECT_EQ(far.size_bytes, 1472u);
  EXPECT_EQ(far.interval, Duration::milliseconds(200));

  std::vector<std::string> actions;
  for (const auto& e : s.events) actions.emplace_back(scenario::to_string(e.action));
  EXPECT_EQ(actions, (std::vector<std::string>{"setRate", "setDelay", "blockProtocol", "linkDown",
                                               "nodeCrash", "setLoss", "setMtu"}));
  EXPECT_EQ(s.events[0].rate_bps, 10'000'000);
  EXPECT_EQ(s.events[1].delay, Duration::milliseconds(20));
  EXPECT_EQ(s.events[2].protocol.ip_protocol, 17);
  EXPECT_EQ(s.events[2].protocol.port, 4789);
  EXPECT_EQ(s.events[2].protocol.text, "udp/4789");
  EXPECT_EQ(s.events[3].node, "gw");
  EXPECT_DOUBLE_EQ(s.events[5].loss, 0.005);
  EXPECT_EQ(s.events[6].mtu_bytes, 1400u);
  EXPECT_EQ(s.events[6].interface, "eth0");
}

TEST(ScenarioTrafficAndEvents, ActionsTakeOnlyTheirParameters) {
  EXPECT_EQ(check_scenario(topology(R"(  events:
  - {at: 1s, action: nodeCrash, node: w1, subnet: net}
  - {at: 1s, action: setMtu, mtu: 1400, subnet: net, node: w1}
  - {at: 1s, action: linkDwn, node: w1, interface: eth0}
)"), "ev.yaml").error_text(),
            "ev.yaml:16:43: spec.events[0].subnet: nodeCrash takes node, not subnet\n"
            "ev.yaml:17:5: spec.events[1]: setMtu takes either subnet, or node and interface\n"
            "ev.yaml:18:22: spec.events[2].action: \"linkDwn\" is not an event action (want linkDown, "
            "linkUp, nodeCrash, nodeRestart, setLoss, setDelay, setRate, setMtu, setFabricMtu, "
            "blockProtocol or "
            "unblockProtocol) (did you mean \"linkDown\"?)");
}

TEST(ScenarioDiagnostic, FormatsPositionsSeverityAndPath) {
  Diagnostic d{"lab.yaml", 14, 18, "spec.nodes[0].interfaces[0].address",
               "\"203.248.23.314/25\" is not an IPv4 prefix", Severity::kError};
  EXPECT_EQ(d.to_string(),
            "lab.yaml:14:18: spec.nodes[0].interfaces[0].address: \"203.248.23.314/25\" is not an IPv4 prefix");
  d.severity = Severity::kWarning;
  d.path.clear();
  EXPECT_EQ(d.to_string(), "lab.yaml:14:18: warning: \"203.248.23.314/25\" is not an IPv4 prefix");
  d.line = 0;
  EXPECT_EQ(d.to_string(), "lab.yaml: warning: \"203.248.23.314/25\" is not an IPv4 prefix");
}

}  // namespace
}  // namespace calisim::calico
