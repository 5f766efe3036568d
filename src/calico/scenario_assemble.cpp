// Checks between documents, once all are read: Calico Node resources onto Topology nodes, the
// environment onto each node, pools (from the file or calico-node's default), per-node
// configuration, namespaces, pods, and the pods and nodes that traffic names.

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include <calisim/calico/quantity.hpp>

#include "calico/scenario_parse.hpp"

namespace calisim::calico::detail {
namespace {

void merge_calico_nodes(Draft& draft) {
  Ctx& ctx = draft.ctx;
  Scenario& out = draft.out;
  std::vector<std::string> names;
  for (const auto& n : out.nodes) names.push_back(n.name);
  std::map<std::string, int> seen;
  for (const auto& c : draft.calico_nodes) {
    scenario::Node* node = nullptr;
    for (auto& n : out.nodes) {
      if (n.name == c.name.name) node = &n;
    }
    if (node == nullptr) {
      ctx.error(c.name.where, c.name.path,
                fmt::format("no node named {} in the Topology{}", in_quotes(c.name.name),
                            did_you_mean(c.name.name, names)));
      continue;
    }
    if (auto [it, fresh] = seen.emplace(c.name.name, c.name.where.line); !fresh) {
      ctx.error(c.name.where, c.name.path,
                fmt::format("Calico Node {} is defined twice (first on line {})", in_quotes(c.name.name),
                            it->second));
      continue;
    }
    node->calico = c.spec;
    for (const auto& [k, v] : c.labels) node->labels[k] = v;
  }
}

void add_builtin_labels(Scenario& out) {
  for (auto& node : out.nodes) {
    scenario::Labels labels{{"kubernetes.io/arch", "amd64"},
                            {"kubernetes.io/hostname", node.name},
                            {"kubernetes.io/os", "linux"}};
    if (node.role == scenario::NodeRole::kControlPlane) {
      labels["node-role.kubernetes.io/control-plane"] = "";
    }
    for (const auto& [k, v] : node.labels) labels[k] = v;
    node.labels = std::move(labels);
  }
}

void resolve_environment(Draft& draft) {
  Ctx& ctx = draft.ctx;
  Scenario& out = draft.out;
  out.calico_node_env = manifest_env();
  overlay_env(out.calico_node_env, draft.global_env);
  const std::string global_path = "spec.calicoNode.env";
  interpret_env(ctx, out.calico_node_env, scenario::EnvSource::kGlobal, global_path);
  for (std::size_t i = 0; i < out.nodes.size(); ++i) {
    auto env = out.calico_node_env;
    overlay_env(env, draft.nodes[i].env);
    out.nodes[i].calico_node =
        interpret_env(ctx, env, scenario::EnvSource::kNode, draft.nodes[i].env_path);
    check_node_pool_env(ctx, draft.nodes[i].env, draft.nodes[i].env_path);
  }
}

void resolve_pools(Draft& draft) {
  Ctx& ctx = draft.ctx;
  Scenario& out = draft.out;
  for (std::size_t i = 0; i < draft.pools.size(); ++i) {
    const auto& pool = draft.pools[i];
    bool ok = true;
    for (std::size_t j = 0; j < i; ++j) {
      const auto& other = draft.pools[j];
      if (other.name == pool.name) {
        ctx.error(draft.pool_names[i].where, draft.pool_names[i].path,
                  fmt::format("IPPool {} is defined twice (first on line {})", in_quotes(pool.name),
                              draft.pool_names[j].where.line));
        ok = false;
      } else if (other.cidr.contains(pool.cidr.address()) || pool.cidr.contains(other.cidr.address())) {
        ctx.error(draft.pool_cidrs[i].where, draft.pool_cidrs[i].path,
                  fmt::format("IPPool {} ({}) overlaps IPPool {} ({})", in_quotes(pool.name),
                              pool.cidr.to_string(), in_quotes(other.name), other.cidr.to_string()));
        ok = false;
      }
    }
    if (ok) out.ip_pools.push_back(pool);
  }
  // calico-node creates its default pool from the environment of whichever node starts first;
  // take the first control-plane node (kubeadm brings it up first), else the first node.
  std::vector<wire::Ipv4Prefix> host_addresses;
  const scenario::Node* first = out.nodes.empty() ? nullptr : &out.nodes.front();
  for (const auto& n : out.nodes) {
    if (n.role == scenario::NodeRole::kControlPlane) {
      first = &n;
      break;
    }
  }
  if (first != nullptr) {
    for (const auto& i : first->interfaces) host_addresses.push_back(i.address);
  }
  if (auto pool = default_pool_from_env(ctx, out.calico_node_env, !draft.pools.empty(),
                                        host_addresses, "spec.calicoNode.env")) {
    out.ip_pools.push_back(*pool);
  }
  // Pod addresses that collide with host addresses make for baffling results: say so.
  for (const auto& pool : out.ip_pools) {
    for (const auto& subnet : out.subnets) {
      if (pool.cidr.contains(subnet.cidr.address()) || subnet.cidr.contains(pool.cidr.address())) {
        ctx.warning(pool.where, "",
                    fmt::format("IPPool {} ({}) overlaps subnet {} ({})", in_quotes(pool.name),
                                pool.cidr.to_string(), in_quotes(subnet.name), subnet.cidr.to_string()));
      }
    }
  }
}

void check_node_named(Ctx& ctx, const Scenario& out, const Ref& ref, std::string_view kind) {
  // "node.<name>" must name a node.
  const std::string node = ref.name.substr(5);
  if (out.find_node(node) != nullptr) return;
  std::vector<std::string> names;
  for (const auto& n : out.nodes) names.push_back("node." + n.name);
  ctx.error(ref.where, ref.path,
            fmt::format("{} {} is for node {}, which is not in the Topology{}", kind,
                        in_quotes(ref.name), in_quotes(node), did_you_mean(ref.name, names)));
}

void resolve_calico_configuration(Draft& draft) {
  Ctx& ctx = draft.ctx;
  Scenario& out = draft.out;
  // BGP: "default" first, always present.
  scenario::BgpConfiguration bgp_default;
  bgp_default.name = "default";
  out.bgp_configurations.push_back(bgp_default);
  for (std::size_t i = 0; i < draft.bgp_configurations.size(); ++i) {
    const auto& c = draft.bgp_configurations[i];
    if (c.name == "default") {
      out.bgp_configurations.front() = c;
      continue;
    }
    check_node_named(ctx, out, draft.bgp_configuration_names[i], "BGPConfiguration");
    out.bgp_configurations.push_back(c);
  }
  std::vector<std::string> node_names;
  for (const auto& n : out.nodes) node_names.push_back(n.name);
  for (std::size_t i = 0; i < draft.bgp_peers.size(); ++i) {
    const auto& peer = draft.bgp_peers[i];
    bool ok = true;
    for (const auto& other : out.bgp_peers) {
      if (other.name == peer.name) {
        ctx.error(peer.where, "metadata.name",
                  fmt::format("BGPPeer {} is defined twice (first on line {})", in_quotes(peer.name),
                              other.where.line));
        ok = false;
      }
    }
    if (const auto& ref = draft.bgp_peer_nodes[i]; ref && out.find_node(ref->name) == nullptr) {
      ctx.error(ref->where, ref->path,
                fmt::format("no node named {}{}", in_quotes(ref->name), did_you_mean(ref->name, node_names)));
      ok = false;
    }
    if (ok) out.bgp_peers.push_back(peer);
  }
  // Felix: likewise.
  scenario::FelixConfiguration felix_default;
  felix_default.name = "default";
  out.felix_configurations.push_back(felix_default);
  for (std::size_t i = 0; i < draft.felix_configurations.size(); ++i) {
    const auto& c = draft.felix_configurations[i];
    if (c.name == "default") {
      out.felix_configurations.front() = c;
      continue;
    }
    check_node_named(ctx, out, draft.felix_configuration_names[i], "FelixConfiguration");
    out.felix_configurations.push_back(c);
  }
  if (draft.ipam) out.ipam = *draft.ipam;
}

void resolve_namespaces(Draft& draft) {
  Scenario& out = draft.out;
  for (const char* builtin : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    out.namespaces.push_back(scenario::Namespace{builtin, {}, {}});
  }
  for (const auto& ns : draft.namespaces) {
    auto it = std::find_if(out.namespaces.begin(), out.namespaces.end(),
                           [&](const scenario::Namespace& n) { return n.name == ns.name; });
    if (it != out.namespaces.end()) {
      *it = ns;
    } else {
      out.namespaces.push_back(ns);
    }
  }
}

void resolve_endpoint(Ctx& ctx, const Draft& draft, const EndpointRef& e, Duration at) {
  const Scenario& out = draft.out;
  using Kind = scenario::Endpoint::Kind;
  if (e.endpoint.kind == Kind::kNode) {
    if (out.find_node(e.endpoint.name) != nullptr || out.find_router(e.endpoint.name) != nullptr) return;
    std::vector<std::string> names;
    for (const auto& n : out.nodes) names.push_back(n.name);
    for (const auto& r : out.routers) names.push_back(r.name);
    ctx.error(e.ref.where, e.ref.path,
              fmt::format("no node or router named {}{}", in_quotes(e.endpoint.name),
                          did_you_mean(e.endpoint.name, names)));
    return;
  }
  if (e.endpoint.kind != Kind::kPod) return;
  std::vector<const scenario::Pod*> same_name;
  for (const auto& p : out.pods) {
    if (p.namespace_name == e.endpoint.namespace_name && p.name == e.endpoint.name) {
      if (p.alive_at(at)) return;
      same_name.push_back(&p);
    }
  }
  if (!same_name.empty()) {
    const scenario::Pod& p = *same_name.back();
    if (p.create_at > at) {
      ctx.error(e.ref.where, e.ref.path,
                fmt::format("pod {} is created at {}, after this starts at {}", p.key(),
                            format_duration(p.create_at), format_duration(at)));
    } else {
      ctx.error(e.ref.where, e.ref.path,
                fmt::format("pod {} is deleted at {}, before this starts at {}", p.key(),
                            format_duration(*p.delete_at), format_duration(at)));
    }
    return;
  }
  // A pod the file defines but that was rejected has its own error already.
  if (draft.rejected_pods.contains(e.ref.name)) return;
  if (auto it = draft.workload_kinds.find(e.ref.name); it != draft.workload_kinds.end()) {
    ctx.error(e.ref.where, e.ref.path,
              fmt::format("{} is a {}, not a pod: name one of its pods (calisim.io/pod-name-suffixes "
                          "pins their names)",
                          e.ref.name, it->second));
    return;
  }
  std::vector<std::string> keys;
  for (const auto& p : out.pods) keys.push_back(p.key());
  ctx.error(e.ref.where, e.ref.path,
            fmt::format("no pod {}{}", e.ref.name, did_you_mean(e.ref.name, keys)));
}

void resolve_traffic_and_events(Draft& draft) {
  Ctx& ctx = draft.ctx;
  Scenario& out = draft.out;
  for (const auto& t : draft.traffic) {
    if (t.from) resolve_endpoint(ctx, draft, *t.from, t.traffic.at);
    if (t.to) resolve_endpoint(ctx, draft, *t.to, t.traffic.at);
    if (t.traffic.at >= out.duration) {
      ctx.warning(t.traffic.where, "",
                  fmt::format("starts at {}, at or after the end of the run ({})",
                              format_duration(t.traffic.at), format_duration(out.duration)));
    }
    out.traffic.push_back(t.traffic);
  }
  for (const auto& e : draft.events) {
    if (e.event.at >= out.duration) {
      ctx.warning(e.event.where, "",
                  fmt::format("happens at {}, at or after the end of the run ({})",
                              format_duration(e.event.at), format_duration(out.duration)));
    }
    out.events.push_back(e.event);
  }
  std::stable_sort(out.traffic.begin(), out.traffic.end(),
                   [](const auto& a, const auto& b) { return a.at < b.at; });
  std::stable_sort(out.events.begin(), out.events.end(),
                   [](const auto& a, const auto& b) { return a.at < b.at; });
}

}  // namespace

void assemble(Draft& draft) {
  Ctx& ctx = draft.ctx;
  if (draft.topologies == 0 && !draft.failed_documents) {
    ctx.error({}, "", "no Topology document (apiVersion: calisim.io/v1, kind: Topology): a "
                      "scenario needs its nodes");
    return;
  }
  if (draft.failed_documents || draft.topologies == 0) {
    // References into a broken document would only mislead; the Topology's own environment can
    // still be checked.
    resolve_environment(draft);
    resolve_pools(draft);
    return;
  }
  merge_calico_nodes(draft);
  add_builtin_labels(draft.out);
  resolve_environment(draft);
  resolve_pools(draft);
  resolve_calico_configuration(draft);
  resolve_namespaces(draft);
  expand_pods(draft);
  bool pod_network = std::any_of(draft.out.pods.begin(), draft.out.pods.end(),
                                 [](const scenario::Pod& p) { return !p.host_network; });
  if (pod_network && draft.out.ip_pools.empty()) {
    ctx.warning(draft.topology_where, "",
                "there is no IP pool (NO_DEFAULT_POOLS or CALICO_IPV4POOL_CIDR=none, and no "
                "IPPool): pods will get no addresses");
  }
  resolve_traffic_and_events(draft);
}

}  // namespace calisim::calico::detail
