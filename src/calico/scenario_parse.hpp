#pragma once
// The scenario parser's working state, shared by its files: each document is read into a Draft
// (scenario_topology.cpp, scenario_calico.cpp, scenario_kube.cpp), then scenario.cpp checks the
// references between documents and assembles the Scenario.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "calico/scenario_yaml.hpp"

namespace calisim::calico::detail {

constexpr std::int64_t kMinMtu = 68;  // RFC 791: every host must take 68 bytes
constexpr std::int64_t kMaxMtu = 65535;

// A reference to something defined elsewhere, kept with where it was written so that a dangling
// one can be reported there once every document has been read.
struct Ref {
  std::string name;
  std::string path;
  Location where;
};

struct EndpointRef {
  scenario::Endpoint endpoint;
  Ref ref;
};

struct TrafficDraft {
  scenario::Traffic traffic;
  std::optional<EndpointRef> from;
  std::optional<EndpointRef> to;
};

struct EventDraft {
  scenario::Event event;
  std::optional<Ref> node;       // node or router
  std::optional<Ref> interface;  // on `node`
  std::optional<Ref> subnet;
};

struct InterfaceDraft {
  Ref name;
  Ref address;                             // the address field (path and place)
  std::optional<std::uint32_t> mtu_bytes;  // as written; resolved against the subnet later
  std::optional<Ref> subnet;
};

// What the Topology says about a node or router beyond the model: where each part is written.
struct MachineDraft {
  Ref name;
  std::vector<InterfaceDraft> interfaces;  // parallel to the machine's interfaces
  std::optional<Ref> gateway;
  std::vector<Ref> route_vias;             // parallel to the machine's routes
  std::vector<scenario::EnvVar> env;       // a node's calicoNode.env as written
  std::string env_path;
};

// A Calico Node resource, merged into the Topology's node of the same name.
struct CalicoNodeDraft {
  Ref name;
  Labels labels;
  scenario::CalicoNodeSpec spec;
};

// A Pod as written (or a Deployment's template, before expansion).
struct PodDraft {
  scenario::Pod pod;
  std::optional<Ref> node_name;   // spec.nodeName
  Ref namespace_ref;              // metadata.namespace (or the metadata when defaulted)
  std::string node_selector_path;
  Location node_selector_where;
  std::size_t order = 0;          // place in the file among pods and workloads
};

struct WorkloadDraft {
  scenario::Workload workload;
  PodDraft pod_template;                    // the pods' shape
  std::optional<std::string> template_hash; // calisim.io/pod-template-hash
  std::vector<std::string> suffixes;        // calisim.io/pod-name-suffixes
  Location suffixes_where;
  std::string suffixes_path;
};

struct Draft {
  explicit Draft(Ctx& c) : ctx(c) {}
  Ctx& ctx;
  bool failed_documents = false;  // a document did not parse: skip cross-document checks

  // Topology
  int topologies = 0;
  Scenario out;  // the Topology's parts land here directly
  std::vector<Ref> subnets;                        // parallel to out.subnets: the names
  std::vector<Ref> subnet_cidrs;                   // parallel to out.subnets
  std::vector<MachineDraft> nodes;                 // parallel to out.nodes
  std::vector<MachineDraft> routers;               // parallel to out.routers
  std::vector<scenario::EnvVar> global_env;
  std::vector<TrafficDraft> traffic;
  std::vector<EventDraft> events;
  Location topology_where;

  // Calico resources
  std::vector<CalicoNodeDraft> calico_nodes;
  std::vector<scenario::IpPool> pools;
  std::vector<Ref> pool_names;                  // parallel: metadata.name
  std::vector<Ref> pool_cidrs;                  // parallel: spec.cidr
  std::vector<scenario::BgpConfiguration> bgp_configurations;
  std::vector<Ref> bgp_configuration_names;    // parallel
  std::vector<scenario::BgpPeer> bgp_peers;
  std::vector<std::optional<Ref>> bgp_peer_nodes;  // parallel: spec.node
  std::vector<scenario::FelixConfiguration> felix_configurations;
  std::vector<Ref> felix_configuration_names;  // parallel
  std::optional<scenario::IpamConfiguration> ipam;

  // Kubernetes objects
  std::vector<scenario::Namespace> namespaces;
  std::vector<PodDraft> pods;
  std::vector<WorkloadDraft> workloads;
  std::size_t next_order = 0;
  std::set<std::string> rejected_pods;  // "<ns>/<name>" of pods with errors: no follow-on errors
  std::map<std::string, std::string> workload_kinds;  // "<ns>/<name>" -> "Deployment", ...
};

// Reads one document (a mapping with apiVersion and kind) into the draft; `path` is the prefix of
// its fields ("" at the top, "items[2]" inside a List).
void read_document(Draft& draft, const Field& document);

void read_topology(Draft& draft, const MapView& document);
// spec.traffic and spec.events (scenario_traffic.cpp); check_events once nodes and subnets are read.
void read_traffic(Draft& draft, const Field& field);
void read_events(Draft& draft, const Field& field);
void check_events(Draft& draft);
void read_calico_resource(Draft& draft, const MapView& document, std::string_view kind);
void read_kubernetes_object(Draft& draft, const MapView& document, std::string_view kind);

// ObjectMeta: name, namespace, labels, annotations; the bookkeeping fields kubectl prints are
// accepted and ignored. Reads `parent`'s "metadata" (required when `name_required`).
struct Metadata {
  std::optional<std::string> name;
  Location name_where;
  std::optional<std::string> namespace_name;
  Location namespace_where;
  Labels labels;
  Labels annotations;
  std::vector<Ref> annotation_refs;  // name = the annotation's key, where = its value
  std::string path;                  // "metadata" (or "items[2].metadata", ...)
  Location where;

  const Ref* annotation(std::string_view key) const;
};
std::optional<Metadata> read_metadata(Draft& draft, const MapView& parent, bool namespaced,
                                      bool name_required = true);

// calico-node's environment (scenario_env.cpp).
std::vector<scenario::EnvVar> manifest_env();
// Reads spec.calicoNode.env (a mapping NAME: value, or the manifest's list of {name, value}).
std::vector<scenario::EnvVar> read_env(Ctx& ctx, const Field& env, scenario::EnvSource source);
// Lays `over` onto `base`: same names replace in place, new ones are appended.
void overlay_env(std::vector<scenario::EnvVar>& base, const std::vector<scenario::EnvVar>& over);
// calico-node's reading of an environment. Problems are reported only for variables whose source
// is `report` (each written variable is checked once, where it is written); `path` prefixes them.
scenario::CalicoNodeSettings interpret_env(Ctx& ctx, const std::vector<scenario::EnvVar>& env,
                                           scenario::EnvSource report, std::string_view path);
// The pool calico-node creates when the file has none (node/pkg/lifecycle/startup/startup.go
// configureIPPools), from the global environment; `host_addresses` are the addresses of the node
// whose calico-node creates it, for the 192.168.0.0/16 overlap fallback.
std::optional<scenario::IpPool> default_pool_from_env(
    Ctx& ctx, const std::vector<scenario::EnvVar>& env, bool pools_in_file,
    const std::vector<wire::Ipv4Prefix>& host_addresses, std::string_view path);
// Warns about pool variables set per node (only the cluster-wide environment creates the pool).
void check_node_pool_env(Ctx& ctx, const std::vector<scenario::EnvVar>& env, std::string_view path);

// Felix settings (scenario_felix.cpp).
// Reads a FelixConfiguration spec: modelled fields are typed, the rest of the API's fields are
// accepted with a warning, anything else is an error.
scenario::FelixSettings read_felix_spec(Ctx& ctx, const Field& spec);
// Applies FELIX_<NAME>=value. `report` false: apply silently (the variable was checked where it
// was written).
void apply_felix_env(Ctx& ctx, const scenario::EnvVar& var, scenario::FelixSettings& felix,
                     bool report, std::string_view path);

// The checks between documents, and the Scenario's final shape (scenario_assemble.cpp).
void assemble(Draft& draft);

// Kubernetes expansion and scheduling (scenario_kube.cpp): turns the draft's pods and workloads
// into the Scenario's pods, in creation order.
void expand_pods(Draft& draft);

}  // namespace calisim::calico::detail
