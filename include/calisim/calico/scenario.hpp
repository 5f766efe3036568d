#pragma once
// The scenario file: one multi-document YAML file that describes a cluster and what happens to
// it. A `calisim.io/v1 Topology` document gives the machines (nodes, routers), the L2 segments
// between them, calico-node's environment, the traffic to send and the faults to inject; the
// other documents are Calico resources as `calicoctl apply` takes them and Kubernetes manifests
// (Namespace, Pod, Deployment, ReplicaSet). examples/README.md is the user's reference.
//
// This is the model and its parser only: everything here is checked, defaulted, cross-referenced
// and expanded (Deployments become pods with Kubernetes-style names, pods without a node are
// scheduled), but nothing is simulated. The cluster is built from a Scenario elsewhere.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <calisim/dataplane/segment.hpp>
#include <calisim/sim/result.hpp>
#include <calisim/sim/time.hpp>
#include <calisim/wire/address.hpp>

namespace calisim::calico {

enum class Severity { kError, kWarning };

// One problem found in a scenario file.
struct Diagnostic {
  std::string file;
  int line = 0;        // 1-based; 0 when the problem has no single place in the file
  int column = 0;      // 1-based
  std::string path;    // the field, "spec.nodes[1].interfaces[0].address"; empty for a document
  std::string message;
  Severity severity = Severity::kError;

  // lab.yaml:14:18: spec.nodes[0].interfaces[0].address: "203.248.23.314/25" is not an IPv4 prefix
  // Warnings carry "warning: " after the position.
  std::string to_string() const;
  bool operator==(const Diagnostic&) const = default;
};

namespace scenario {

using Labels = std::map<std::string, std::string, std::less<>>;

// Where something was written. line 0: it was not written in the file (a default).
struct Location {
  int line = 0;
  int column = 0;
  bool operator==(const Location&) const = default;
};

// ---------------------------------------------------------------------------------------------
// Topology

// The L2 segment of a subnet: what every port on it gets.
struct Link {
  dataplane::LinkParams params;     // rate, one-way delay, txqueuelen, loss, fabric MTU
  std::uint32_t mtu_bytes = 1500;   // the default MTU of interfaces on the subnet
};

struct Subnet {
  std::string name;
  wire::Ipv4Prefix cidr;            // masked: 203.248.23.128/25
  Link link;
  Location where;
};

struct Route {
  wire::Ipv4Prefix to;              // masked destination
  wire::Ipv4Address via;            // on-link next hop
  Location where;
};

struct Interface {
  std::string name;                 // enp0s8
  wire::Ipv4Prefix address;         // host bits kept: 203.248.23.214/25
  std::string subnet;               // empty: a segment of its own, shared with nobody
  std::uint32_t mtu_bytes = 1500;   // resolved: the interface's own, else its subnet's, else 1500
  Location where;

  bool isolated() const { return subnet.empty(); }
  // The segment this interface plugs into: the subnet's name, or "<owner>/<interface>" for an
  // isolated interface (VirtualBox's NAT network: every VM alone on 10.0.2.15/24).
  std::string segment(std::string_view owner) const;
};

enum class NodeRole { kControlPlane, kWorker };
std::string_view to_string(NodeRole role);

// calico-node's environment (the DaemonSet's container env) and what calico-node reads from it.
enum class EnvSource {
  kManifest,  // the stock manifests/calico.yaml (v3.28) sets it
  kGlobal,    // spec.calicoNode.env
  kNode,      // spec.nodes[i].calicoNode.env
};

struct EnvVar {
  std::string name;
  std::string value;
  EnvSource source = EnvSource::kManifest;
  Location where;
};

// IP_AUTODETECTION_METHOD (node/pkg/lifecycle/startup/autodetection/autodetection_methods.go).
enum class AutodetectionMethod {
  kFirstFound,             // first-found (also the empty value)
  kInterface,              // interface=REGEX[,REGEX]
  kSkipInterface,          // skip-interface=REGEX[,REGEX]
  kCanReach,               // can-reach=DESTINATION
  kCidr,                   // cidr=CIDR[,CIDR]
  kKubernetesInternalIp,   // kubernetes-internal-ip
};

struct IpAutodetection {
  AutodetectionMethod method = AutodetectionMethod::kFirstFound;
  std::vector<std::string> interface_patterns;  // kInterface, kSkipInterface: Go regexps
  std::vector<wire::Ipv4Prefix> cidrs;          // kCidr
  std::string destination;                      // kCanReach: an IP address or a host name
};

// The IP variable: "autodetect" (the manifest's value) runs IP_AUTODETECTION_METHOD at every
// start, overwriting a Node resource's spec.bgp.ipv4Address; empty autodetects only when the
// Node has no address; "none" keeps the Node's address; anything else is the address to use.
enum class NodeIpMode { kAutodetect, kAutodetectIfUnset, kNone, kFixed };

enum class NetworkingBackend { kBird, kVxlan, kNone };  // CALICO_NETWORKING_BACKEND

// FelixConfiguration's spec as far as calisim models it; every field is optional (unset: Felix's
// default, given in the comment). The same struct holds the FELIX_* environment overrides.
// Choices are kept in the API's spelling ("Accept", "Insert", "Info", "Auto", "CalicoIPAM")
// whichever way the environment wrote them.
struct FelixSettings {
  std::optional<bool> ipip_enabled;                        // ipipEnabled (from the pools)
  std::optional<int> ipip_mtu;                             // ipipMTU: 0 = auto (host - 20)
  std::optional<bool> vxlan_enabled;                       // vxlanEnabled (from the pools)
  std::optional<int> vxlan_mtu;                            // vxlanMTU: 0 = auto (host - 50)
  std::optional<int> vxlan_vni;                            // vxlanVNI: 4096
  std::optional<int> vxlan_port;                           // vxlanPort: 4789
  std::optional<bool> wireguard_enabled;                   // wireguardEnabled: false
  std::optional<int> wireguard_mtu;                        // wireguardMTU: 0 = auto (host - 60)
  std::optional<int> wireguard_listening_port;             // wireguardListeningPort: 51820
  std::optional<int> wireguard_routing_rule_priority;      // wireguardRoutingRulePriority: 99
  std::optional<std::string> wireguard_interface_name;     // wireguardInterfaceName: wireguard.cali
  std::optional<std::string> mtu_iface_pattern;            // mtuIfacePattern: ^((en|wl|ww|sl|ib)[Pcopsvx].*|(eth|wlan|wwan).*)
  std::optional<Duration> route_refresh_interval;          // routeRefreshInterval: 90s
  std::optional<Duration> iptables_refresh_interval;       // iptablesRefreshInterval: 90s
  std::optional<std::string> interface_prefix;             // interfacePrefix: cali
  std::optional<std::string> default_endpoint_to_host_action;  // Drop (manifest: Accept)
  std::optional<std::string> chain_insert_mode;            // chainInsertMode: Insert
  std::optional<bool> ipv6_support;                        // ipv6Support: true (manifest: false)
  std::optional<std::string> log_severity_screen;          // logSeverityScreen: Info
  std::optional<std::string> iptables_backend;             // iptablesBackend: Auto
  std::optional<wire::Ipv4Address> nat_outgoing_address;   // natOutgoingAddress: none
  std::optional<int> device_route_protocol;                // deviceRouteProtocol: 3
  std::optional<bool> remove_external_routes;              // removeExternalRoutes: true
  std::optional<bool> bpf_enabled;                         // bpfEnabled: false (not modelled)
  std::optional<bool> health_enabled;                      // healthEnabled: false (manifest: true)
  std::optional<std::string> route_source;                 // routeSource: CalicoIPAM

  // Fields set in `over` replace ours.
  void merge(const FelixSettings& over);
  bool operator==(const FelixSettings&) const = default;
};

struct CalicoNodeSettings {
  // The container's environment: the manifest's, then spec.calicoNode.env, then the node's own;
  // a later value replaces an earlier one in place.
  std::vector<EnvVar> env;
  NodeIpMode ip_mode = NodeIpMode::kAutodetect;
  std::optional<wire::Ipv4Prefix> ip;  // kFixed: IP=<address>[/<length>]
  bool ip_has_length = false;          // false: calico-node takes the length from the interface
  IpAutodetection ip_autodetection;
  std::optional<std::uint32_t> as_number;                   // AS
  NetworkingBackend networking_backend = NetworkingBackend::kBird;
  std::vector<std::string> cluster_type;                    // CLUSTER_TYPE=k8s,bgp
  FelixSettings felix;                                      // FELIX_* (they beat FelixConfiguration)

  const EnvVar* find(std::string_view name) const;
};

// A Calico Node resource's spec.bgp (and tunnel fields), when the file has one for the node.
struct CalicoNodeSpec {
  std::optional<wire::Ipv4Prefix> ipv4_address;             // spec.bgp.ipv4Address
  std::optional<std::uint32_t> as_number;                   // spec.bgp.asNumber
  std::optional<wire::Ipv4Address> ipv4_ipip_tunnel_addr;   // spec.bgp.ipv4IPIPTunnelAddr
  std::optional<wire::Ipv4Address> route_reflector_cluster_id;  // spec.bgp.routeReflectorClusterID
  std::optional<wire::Ipv4Address> ipv4_vxlan_tunnel_addr;  // spec.ipv4VXLANTunnelAddr
  std::optional<wire::MacAddress> vxlan_tunnel_mac_addr;    // spec.vxlanTunnelMACAddr
  Location where;                                           // the Node document; line 0: none
};

struct Node {
  std::string name;                  // the hostname, the Kubernetes and Calico node name
  NodeRole role = NodeRole::kWorker;
  // kubernetes.io/hostname, kubernetes.io/os=linux, kubernetes.io/arch=amd64 and, on a control
  // plane, node-role.kubernetes.io/control-plane="" as kubeadm sets them; then the Topology's
  // labels; then a Calico Node resource's.
  Labels labels;
  // In ifindex order. calico-node's autodetection walks them last first (GetInterfaces loops in
  // reverse), so first-found takes the last interface with a usable address.
  std::vector<Interface> interfaces;
  std::optional<wire::Ipv4Address> default_gateway;
  std::vector<Route> routes;
  CalicoNodeSettings calico_node;
  CalicoNodeSpec calico;
  Location where;

  const Interface* find_interface(std::string_view name) const;
};

// A plain Linux router (ip_forward=1) joining subnets.
struct Router {
  std::string name;
  std::vector<Interface> interfaces;
  std::optional<wire::Ipv4Address> default_gateway;
  std::vector<Route> routes;
  Location where;

  const Interface* find_interface(std::string_view name) const;
};

// ---------------------------------------------------------------------------------------------
// Calico resources (api/pkg/apis/projectcalico/v3)

enum class EncapsulationMode { kNever, kAlways, kCrossSubnet };  // ipipMode, vxlanMode
std::string_view to_string(EncapsulationMode mode);

enum class AllowedUse { kWorkload, kTunnel, kLoadBalancer };

struct IpPool {
  std::string name;
  wire::Ipv4Prefix cidr;
  int block_size = 26;
  EncapsulationMode ipip_mode = EncapsulationMode::kNever;
  EncapsulationMode vxlan_mode = EncapsulationMode::kNever;
  bool nat_outgoing = false;
  bool disabled = false;
  bool disable_bgp_export = false;
  std::string node_selector = "all()";
  std::vector<AllowedUse> allowed_uses{AllowedUse::kWorkload, AllowedUse::kTunnel};
  // True for the pool calico-node creates at start (default-ipv4-ippool, from CALICO_IPV4POOL_*)
  // when the file has no IPPool.
  bool from_environment = false;
  Location where;
};

struct BgpConfiguration {
  std::string name;                                   // "default" or "node.<name>"
  std::optional<std::string> log_severity_screen;     // Info
  std::optional<bool> node_to_node_mesh_enabled;      // true
  std::optional<std::uint32_t> as_number;             // 64512
  std::optional<std::uint16_t> listen_port;           // 179
  std::vector<wire::Ipv4Prefix> service_cluster_ips;
  std::vector<wire::Ipv4Prefix> service_external_ips;
  std::vector<wire::Ipv4Prefix> service_load_balancer_ips;
  std::optional<Duration> node_mesh_max_restart_time; // BIRD's 120s
  std::optional<std::string> bind_mode;               // None | NodeIP
  std::vector<std::string> ignored_interfaces;
  Location where;                                     // line 0: not in the file (all defaults)

  bool mesh_enabled() const { return node_to_node_mesh_enabled.value_or(true); }
  std::uint32_t asn() const { return as_number.value_or(64512); }
};

struct BgpPeer {
  std::string name;
  std::string node;                          // one node, or empty
  std::string node_selector;                 // the nodes that peer, or empty (with node empty: all)
  std::optional<wire::Ipv4Address> peer_ip;  // peerIP "ip[:port]"
  std::optional<std::uint16_t> peer_port;
  std::optional<std::uint32_t> as_number;
  std::string peer_selector;                 // peer with the nodes it selects
  bool keep_original_next_hop = false;
  std::optional<std::uint32_t> local_as_number;
  std::string source_address = "UseNodeIP";  // UseNodeIP | None
  std::optional<Duration> max_restart_time;
  std::optional<Duration> keepalive_time;
  std::optional<int> num_allowed_local_as_numbers;
  std::optional<int> ttl_security;
  std::vector<std::string> filters;
  Location where;
};

struct FelixConfiguration {
  std::string name;  // "default" or "node.<name>"
  FelixSettings spec;
  Location where;    // line 0: not in the file
};

struct IpamConfiguration {
  bool strict_affinity = false;
  bool auto_allocate_blocks = true;
  int max_blocks_per_host = 0;  // 0: Calico's safeguard of 20 applies
  Location where;
};

// ---------------------------------------------------------------------------------------------
// Kubernetes objects

struct Namespace {
  std::string name;
  Labels labels;
  Location where;  // line 0: one of Kubernetes' own (default, kube-system, ...)
};

enum class WorkloadKind { kDeployment, kReplicaSet };

// A Deployment or ReplicaSet as written, with what it expanded to.
struct Workload {
  WorkloadKind kind = WorkloadKind::kDeployment;
  std::string namespace_name;
  std::string name;
  int replicas = 1;
  std::string replica_set;         // the ReplicaSet that owns the pods: <deployment>-<hash>
  std::string pod_template_hash;   // Deployments only
  std::vector<std::string> pods;   // pod names, in creation order
  Location where;
};

struct Pod {
  std::string namespace_name;
  std::string name;
  Labels labels;                   // a Deployment's pods also carry pod-template-hash
  Labels annotations;
  std::string node;                // spec.nodeName, or where the scheduler put it
  bool scheduled = false;          // true: calisim's scheduler chose the node
  Labels node_selector;
  bool host_network = false;
  Duration create_at;              // calisim.io/create-at, default 0s
  std::optional<Duration> delete_at;  // calisim.io/delete-at
  std::string owner;               // "ReplicaSet/hello-776c774f98", or empty
  Location where;

  std::string key() const { return namespace_name + "/" + name; }
  bool alive_at(Duration t) const { return create_at <= t && (!delete_at || t < *delete_at); }
};

// ---------------------------------------------------------------------------------------------
// Traffic and events

// "<namespace>/<pod>", "node:<node or router>" or an IPv4 address.
struct Endpoint {
  enum class Kind { kPod, kNode, kAddress };
  Kind kind = Kind::kAddress;
  std::string namespace_name;  // kPod
  std::string name;            // kPod: the pod; kNode: the node or router
  wire::Ipv4Address address;   // kAddress
  std::string to_string() const;
};

struct PingSpec {
  Endpoint from;
  Endpoint to;
  int count = 5;                               // -c
  Duration interval = Duration::seconds(1);    // -i
  std::size_t size_bytes = 56;                 // -s
  std::optional<std::uint8_t> ttl;             // -t
};

enum class TransportProtocol { kTcp, kUdp };

struct FlowSpec {
  Endpoint from;
  Endpoint to;
  TransportProtocol protocol = TransportProtocol::kTcp;
  std::uint16_t port = 0;
  std::uint64_t bytes = 0;
};

struct Traffic {
  Duration at;
  std::optional<PingSpec> ping;  // exactly one of ping and flow
  std::optional<FlowSpec> flow;
  Location where;
};

// What a fabric fault matches: an IP protocol, and for TCP/UDP a destination port.
struct ProtocolMatch {
  std::uint8_t ip_protocol = 0;       // 4 for IPIP, 17 for UDP, ...
  std::optional<std::uint16_t> port;  // "udp/4789", "tcp/179"
  std::string text;                   // as written: "ipip", "udp/4789"
};

enum class EventAction {
  kLinkDown, kLinkUp,                // node (or router) + interface
  kNodeCrash, kNodeRestart,          // node
  kSetLoss,                          // subnet, loss
  kSetDelay,                         // subnet, delay
  kSetRate,                          // subnet, rate
  kSetMtu,                           // node + interface, or subnet; mtu
  kSetFabricMtu,                     // subnet, mtu (0: none): what the fabric carries
  kBlockProtocol, kUnblockProtocol,  // subnet, protocol
};
std::string_view to_string(EventAction action);

// An action's scenario name ("linkDown") and its parameters: it needs every one of `required`
// and takes nothing outside `allowed` (setMtu also needs subnet, or node and interface).
struct EventActionRule {
  std::string_view name;
  EventAction action;
  std::vector<std::string_view> required;
  std::vector<std::string_view> allowed;
};
const std::vector<EventActionRule>& event_action_rules();
const EventActionRule* find_event_action(std::string_view name);  // nullptr: no such action

// A blockProtocol/unblockProtocol protocol: ipip, vxlan, wireguard, bgp, icmp, tcp, udp, esp,
// an IP protocol number 0..255, udp/<port> or tcp/<port>; nullopt for anything else.
std::optional<ProtocolMatch> parse_protocol_match(std::string_view text);

// One fault or lifecycle step; the fields that matter depend on the action (above).
struct Event {
  Duration at;
  EventAction action = EventAction::kLinkDown;
  std::string node;        // a node or a router
  std::string interface;
  std::string subnet;
  double loss = 0.0;       // probability, 0..1
  Duration delay;
  std::int64_t rate_bps = 0;
  std::uint32_t mtu_bytes = 0;
  ProtocolMatch protocol;
  Location where;
};

}  // namespace scenario

// A parsed, checked and expanded scenario file.
struct Scenario {
  std::string name;                       // metadata.name of the Topology: the run directory
  std::string file;                       // the file name it was parsed under
  std::uint64_t seed = 1;
  Duration duration = Duration::seconds(60);

  std::vector<scenario::Subnet> subnets;
  std::vector<scenario::Node> nodes;      // in file order
  std::vector<scenario::Router> routers;
  std::vector<scenario::EnvVar> calico_node_env;  // manifest defaults + spec.calicoNode.env

  std::vector<scenario::IpPool> ip_pools;
  // "default" always first (filled with nothing but defaults when the file has none), then the
  // per-node ones in file order.
  std::vector<scenario::BgpConfiguration> bgp_configurations;
  std::vector<scenario::BgpPeer> bgp_peers;
  std::vector<scenario::FelixConfiguration> felix_configurations;  // likewise, "default" first
  scenario::IpamConfiguration ipam;

  std::vector<scenario::Namespace> namespaces;  // Kubernetes' own four first
  std::vector<scenario::Workload> workloads;
  // Every pod in creation order: by calisim.io/create-at, then by place in the file (a
  // Deployment's pods take its place).
  std::vector<scenario::Pod> pods;
  std::vector<scenario::Traffic> traffic;   // by time, then file order
  std::vector<scenario::Event> events;      // by time, then file order

  std::vector<Diagnostic> warnings;

  const scenario::Node* find_node(std::string_view name) const;
  const scenario::Router* find_router(std::string_view name) const;
  const scenario::Subnet* find_subnet(std::string_view name) const;
  const scenario::Pod* find_pod(std::string_view namespace_name, std::string_view name) const;
  const scenario::IpPool* find_pool(std::string_view name) const;
  // The settings Felix runs with on a node: FelixConfiguration default, then node.<name>, then
  // the node's FELIX_* environment.
  scenario::FelixSettings felix_for(std::string_view node) const;
  // BGPConfiguration default with node.<name>'s fields laid over it.
  scenario::BgpConfiguration bgp_for(std::string_view node) const;
};

// Everything a parse found: the scenario when there were no errors, and all diagnostics
// (errors and warnings) in file order.
struct ScenarioParse {
  std::optional<Scenario> scenario;
  std::vector<Diagnostic> diagnostics;

  bool ok() const { return scenario.has_value(); }
  std::vector<Diagnostic> errors() const;
  // The errors' to_string(), one a line.
  std::string error_text() const;
};

// Parses, checks and expands a scenario file held in memory; `file_name` names it in diagnostics.
ScenarioParse check_scenario(std::string_view text, std::string_view file_name);

// As check_scenario, for callers that want a Result: the error's message lists every error, one
// a line (Errc::kInvalidArgument); warnings stay on the Scenario.
[[nodiscard]] Result<Scenario> parse_scenario(std::string_view text, std::string_view file_name);

// Reads and parses a file (Errc::kIo when it cannot be read).
[[nodiscard]] Result<Scenario> load_scenario(const std::filesystem::path& path);

// The built-in scenario: the lab of two VirtualBox VMs on one /25 with IPIP (examples/lab-ipip.yaml).
std::string_view default_lab_scenario_yaml();

}  // namespace calisim::calico
