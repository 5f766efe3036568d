#pragma once
// calicoctl views other than `ipam` (`node status`, `get ippool|node|bgppeer|bgpconfig|wep`),
// printed byte for byte as calicoctl v3.28 prints them. They are pure functions over plain rows:
// the cluster model fills the rows, these functions know only calicoctl's formatting.
//
// Sources (projectcalico/calico v3.28.0):
//   calicoctl/calicoctl/commands/node/status.go    `node status`: process checks, BIRD's
//                                                  `show protocols` parsing, the tablewriter table
//   calicoctl/calicoctl/commands/common/printer.go ResourcePrinterTable: one Go text/tabwriter
//                                                  (minwidth 5, tabwidth 1, padding 3, ' ', 0)
//                                                  per table, then a blank line
//   calicoctl/calicoctl/resourcemgr/resourcemgr.go GetTableTemplate: every cell, the last one
//                                                  too, is tab-terminated, so every column is
//                                                  padded and lines end in spaces
//   calicoctl/calicoctl/resourcemgr/{ippool,node,bgppeer,bgpconfig,workloadendpoint}.go
//                                                  the column sets and their Go templates
//
// Row order is the datastore's (Kubernetes API) list order, which is etcd key order: every
// `calicoctl get` view sorts its rows by name (byte order), and workload endpoints by the pod's
// key "<namespace>/<pod>" (the KDD backend lists pods and converts each one; see
// calicoctl_get_workloadendpoints). `node status` keeps BIRD's protocol order, which is the
// order of the protocols in bird.cfg; the caller passes them in that order.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <calisim/sim/time.hpp>

namespace calisim::calico::views {

// ---------------------------------------------------------------------------------------------
// calicoctl node status

// One BGP protocol of BIRD's `show protocols` (Calico's BIRD 1.6 fork, nest/proto.c
// proto_cmd_show; proto/bgp/bgp.c bgp_get_status).
struct BgpPeerRow {
  // The BIRD protocol name confd gives the peer: Mesh_203_248_23_215, Node_10_0_0_1,
  // Global_10_0_0_9 (IPv6: Mesh_fd00__1). Other names (kernel1, device1, ...) are not listed.
  std::string protocol_name{};
  std::string state{};  // proto_state_name: "up", "start", "down", "stop", "feed", "flush", "wait"
  Time since{};         // the protocol's last state change
  // bgp_get_status, as BIRD prints it: "Established", "Active        Socket: Connection
  // refused", "Passive", "Connect", or for a down protocol its last error alone ("Socket:
  // Connection closed") or nothing. calicoctl splits the line on white space, so runs of
  // spaces print as one; a row with no info at all has too few columns and is not listed.
  std::string info{};
};

// The SINCE column: BIRD 1.6's tm_format_datetime with the default `timeformat protocol`
// {"%T", "%F", 20 h} (conf/conf.c), in whole seconds. Convention: simulation time 0 is
// 2024-01-01 00:00:00 in the time zone BIRD prints in, so Time::from_ns(5'400'000'000) prints
// as "00:00:05" and a change 20 h or more before `now` prints as its date ("2024-01-01").
std::string bird_protocol_since(Time since, Time now);

// `calicoctl node status` as printed on a node. calico/node runs both `bird` and `bird6`
// whenever BGP is on (node/filesystem/etc/rc.local), so `bird_running` stands for both.
// Peers print in the order given. When `calico_running` is false calicoctl exits 1 having
// printed only "Calico process is not running.\n" (on stderr); that text is returned.
std::string calicoctl_node_status(bool calico_running, bool bird_running,
                                  std::span<const BgpPeerRow> ipv4_rows, Time now,
                                  std::span<const BgpPeerRow> ipv6_rows = {});

// ---------------------------------------------------------------------------------------------
// calicoctl get

// Go's text/tabwriter as calicoctl configures it (minwidth 5, tabwidth 1, padding 3, padchar
// ' ', flags 0), fed one line per row with every cell tab-terminated (GetTableTemplate's
// layout): each column is as wide as its widest cell plus 3, and at least 5; a column runs only
// over consecutive lines that have a cell in it (elastic tabstops). Widths count UTF-8 code
// points. Every line, the last included, ends in '\n'.
std::string render_tabwriter(std::span<const std::vector<std::string>> rows);

// IPPool (resourcemgr/ippool.go).
struct IpPoolRow {
  std::string name{};  // "default-ipv4-ippool"
  std::string cidr{};  // "192.168.0.0/16"
  bool nat_outgoing = false;
  std::string ipip_mode{};   // "Always", "CrossSubnet", "Never"; empty prints "Never"
  std::string vxlan_mode{};  // likewise
  bool disabled = false;
  bool disable_bgp_export = false;
  std::string node_selector{};  // "all()" once defaulted
};

// `calicoctl get ippool [-o wide]`: NAME CIDR SELECTOR, or with `wide` NAME CIDR NAT IPIPMODE
// VXLANMODE DISABLED DISABLEBGPEXPORT SELECTOR. Rows sorted by name.
std::string calicoctl_get_ippools(std::span<const IpPoolRow> rows, bool wide = false);

// Node (resourcemgr/node.go).
struct NodeRow {
  std::string name{};  // "user-controller"
  // Whether spec.bgp is set at all; without it ASN, IPV4 and IPV6 print empty.
  bool has_bgp = true;
  std::optional<std::uint32_t> as_number{};  // spec.bgp.asNumber; unset: inherited, "(64512)"
  std::string ipv4_address{};                // spec.bgp.ipv4Address, "203.248.23.214/25"
  std::string ipv6_address{};                // spec.bgp.ipv6Address
};

// `calicoctl get node [-o wide]`: NAME, or with `wide` NAME ASN IPV4 IPV6. A node without its
// own AS shows the inherited one in parentheses: the "default" BGPConfiguration's asNumber
// (`global_as_number`), or 64512 when that is unset or the resource does not exist
// (printer.go config("asnumber")). Rows sorted by name.
std::string calicoctl_get_nodes(std::span<const NodeRow> rows, bool wide = false,
                                std::optional<std::uint32_t> global_as_number = std::nullopt);

// BGPPeer (resourcemgr/bgppeer.go).
struct BgpPeerResourceRow {
  std::string name{};
  std::string peer_ip{};        // spec.peerIP, "10.0.0.9" or "10.0.0.9:179"
  std::string node{};           // spec.node; empty for all nodes
  std::string node_selector{};  // spec.nodeSelector
  std::uint32_t as_number = 0;
};

// `calicoctl get bgppeer` (wide is the same): NAME PEERIP NODE ASN. NODE is the node, else the
// node selector, else "(global)". Rows sorted by name.
std::string calicoctl_get_bgppeers(std::span<const BgpPeerResourceRow> rows);

// BGPConfiguration (resourcemgr/bgpconfig.go).
struct BgpConfigRow {
  std::string name{};                               // "default", "node.<nodename>"
  std::string log_severity{};                       // spec.logSeverityScreen, "Info"
  std::optional<bool> node_to_node_mesh_enabled{};  // unset prints "-"
  std::optional<std::uint32_t> as_number{};         // unset prints "-"
};

// `calicoctl get bgpconfig` (wide is the same): NAME LOGSEVERITY MESHENABLED ASNUMBER. Rows
// sorted by name.
std::string calicoctl_get_bgpconfigs(std::span<const BgpConfigRow> rows);

// WorkloadEndpoint.spec.ipNATs[i]; printed as Go prints the struct: "{10.0.0.5 172.16.0.9}".
struct IpNat {
  std::string internal_ip{};
  std::string external_ip{};
};

// WorkloadEndpoint (resourcemgr/workloadendpoint.go), as the Kubernetes backend derives it from
// a pod (libcalico-go k8s/conversion/workload_endpoint_default.go).
struct WorkloadEndpointRow {
  std::string k8s_namespace{};  // "kube-system"
  std::string pod{};            // the pod name; the WORKLOAD column for Kubernetes endpoints
  std::string name{};           // "<node>-k8s-<pod>-eth0", dashes doubled (workload_endpoint_name)
  std::string node{};           // "user-controller"
  std::vector<std::string> networks{};  // spec.ipNetworks, "192.168.136.5/32"
  std::string interface_name{};         // "cali77d085837b5" (veth_name_for_workload)
  std::vector<std::string> profiles{};  // "kns.default", "ksa.default.default"
  std::vector<IpNat> nats{};            // spec.ipNATs (floating IPs)
};

// `calicoctl get workloadendpoints [-n <ns> | -A] [-o wide]`: WORKLOAD NODE NETWORKS INTERFACE,
// or with `wide` NAME WORKLOAD NODE NETWORKS INTERFACE PROFILES NATS; NAMESPACE goes first when
// either -A or -n was given (get.go printNamespace). `namespace_flag` is -n's value, empty when
// -n was not given, which lists the "default" namespace. calicoctl refuses -A together with -n;
// here -A wins. Multiple networks, profiles and NATs are joined with ','.
//
// Order: the KDD backend lists pods through the API server (a paged list read from etcd), so
// endpoints come in etcd key order of /registry/pods/<namespace>/<pod>, i.e. sorted by the byte
// string "<namespace>/<pod>"; a pod's endpoints keep the order given.
std::string calicoctl_get_workloadendpoints(std::span<const WorkloadEndpointRow> rows,
                                            bool all_namespaces = false, bool wide = false,
                                            std::string_view namespace_flag = {});

}  // namespace calisim::calico::views
