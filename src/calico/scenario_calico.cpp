// Calico resources as `calicoctl apply` takes them (projectcalico.org/v3, or the CRD spelling
// crd.projectcalico.org/v1): IPPool, BGPConfiguration, BGPPeer, Node, FelixConfiguration,
// IPAMConfiguration. Field names and checks follow api/pkg/apis/projectcalico/v3 and
// libcalico-go's validator.

#include <algorithm>

#include <fmt/format.h>

#include "calico/scenario_parse.hpp"

namespace calisim::calico::detail {
namespace {

using scenario::EncapsulationMode;

// Calico's selector language is checked where it is evaluated; here only that it is well formed
// (quotes closed, parentheses and braces balanced), so that a typo is reported at its line.
std::string check_selector(std::string_view selector) {
  int parens = 0;
  int braces = 0;
  char quote = 0;
  for (char c : selector) {
    if (quote != 0) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') quote = c;
    else if (c == '(') ++parens;
    else if (c == ')') --parens;
    else if (c == '{') ++braces;
    else if (c == '}') --braces;
    if (parens < 0 || braces < 0) return "has an unmatched closing bracket";
  }
  if (quote != 0) return "has an unclosed quote";
  if (parens != 0 || braces != 0) return "has an unclosed bracket";
  return "";
}

std::optional<std::string> read_selector(Ctx& ctx, const Field& field) {
  auto s = read_string(ctx, field);
  if (!s) return std::nullopt;
  if (auto problem = check_selector(*s); !problem.empty()) {
    ctx.error(field.where, field.path, fmt::format("selector {} {}", in_quotes(*s), problem));
    return std::nullopt;
  }
  return s;
}

void not_modelled(Ctx& ctx, const MapView& spec, std::initializer_list<std::string_view> fields,
                  std::string_view why = "not modelled by calisim; ignored") {
  for (const auto& f : fields) {
    if (spec.get(f)) ctx.warning(spec.key_where(f), join_path(spec.self().path, f), fmt::format("{} is {}", f, why));
  }
}

std::optional<std::string> resource_name(Draft& draft, const MapView& document,
                                          Location* where = nullptr) {
  auto meta = read_metadata(draft, document, false);
  if (!meta || !meta->name) return std::nullopt;
  if (where != nullptr) *where = meta->name_where;
  return meta->name;
}

// "default", or "node.<name>" for one node (BGPConfiguration, FelixConfiguration).
bool global_or_node_name(Ctx& ctx, const std::string& name, Location where, const std::string& path,
                         std::string_view kind) {
  if (name == "default" || (name.starts_with("node.") && name.size() > 5)) return true;
  ctx.warning(where, path,
              fmt::format("{} {} is neither \"default\" nor \"node.<name>\": Calico reads only "
                          "those; ignored",
                          kind, in_quotes(name)));
  return false;
}

const std::vector<std::string_view> kModes{"Always", "CrossSubnet", "Never"};

std::optional<EncapsulationMode> read_mode(Ctx& ctx, const Field& field, std::string_view what) {
  // An empty mode is Never (the API's omitempty zero value).
  if (field.node.IsScalar() && field.node.Scalar().empty()) return EncapsulationMode::kNever;
  auto i = read_choice(ctx, field, kModes, what);
  if (!i) return std::nullopt;
  return *i == 0 ? EncapsulationMode::kAlways
                 : (*i == 1 ? EncapsulationMode::kCrossSubnet : EncapsulationMode::kNever);
}

void read_ip_pool(Draft& draft, const MapView& document) {
  Ctx& ctx = draft.ctx;
  Location name_where;
  auto name = resource_name(draft, document, &name_where);
  auto spec_field = document.require("spec");
  if (!spec_field || !name) return;
  MapView spec(ctx, *spec_field,
               {"cidr", "vxlanMode", "ipipMode", "natOutgoing", "disabled", "disableBGPExport",
                "blockSize", "nodeSelector", "namespaceSelector", "allowedUses", "assignmentMode"});
  if (!spec.ok()) return;
  scenario::IpPool pool;
  pool.name = *name;
  pool.where = document.self().where;
  bool ok = true;

  std::optional<Field> cidr_field = spec.require("cidr");
  if (cidr_field) {
    if (cidr_field->node.IsScalar() && cidr_field->node.Scalar().find(':') != std::string::npos) {
      ctx.error(cidr_field->where, cidr_field->path,
                fmt::format("{}: calisim models IPv4 pools only", in_quotes(cidr_field->node.Scalar())));
      ok = false;
    } else if (auto cidr = read_network(ctx, *cidr_field)) {
      pool.cidr = *cidr;
      const wire::Ipv4Prefix link_local(wire::Ipv4Address(169, 254, 0, 0), 16);
      if (link_local.contains(cidr->address()) || cidr->contains(link_local.address())) {
        ctx.error(cidr_field->where, cidr_field->path,
                  "IPPool CIDR overlaps with IPv4 link local range 169.254.0.0/16");
        ok = false;
      }
    } else {
      ok = false;
    }
  } else {
    ok = false;
  }
  if (auto f = spec.get("ipipMode")) {
    if (auto m = read_mode(ctx, *f, "an IPIP mode")) pool.ipip_mode = *m; else ok = false;
  }
  if (auto f = spec.get("vxlanMode")) {
    if (auto m = read_mode(ctx, *f, "a VXLAN mode")) pool.vxlan_mode = *m; else ok = false;
  }
  if (pool.ipip_mode != EncapsulationMode::kNever && pool.vxlan_mode != EncapsulationMode::kNever) {
    ctx.error(spec.key_where("vxlanMode"), join_path(spec.self().path, "vxlanMode"),
              "ipipMode and vxlanMode cannot both be enabled");
    ok = false;
  }
  if (auto f = spec.get("natOutgoing")) {
    if (auto b = read_bool(ctx, *f)) pool.nat_outgoing = *b;
  }
  if (auto f = spec.get("disabled")) {
    if (auto b = read_bool(ctx, *f)) pool.disabled = *b;
  }
  if (auto f = spec.get("disableBGPExport")) {
    if (auto b = read_bool(ctx, *f)) pool.disable_bgp_export = *b;
  }
  if (auto f = spec.get("blockSize")) {
    if (auto v = read_int(ctx, *f, 0, 128)) {
      if (*v == 0) {
        pool.block_size = 26;
      } else if (*v < 20 || *v > 32) {
        ctx.error(f->where, f->path,
                  fmt::format("blockSize {} is out of range: it must be between 20 and 32 for "
                              "IPv4 pools",
                              *v));
        ok = false;
      } else {
        pool.block_size = static_cast<int>(*v);
      }
    } else {
      ok = false;
    }
  }
  if (ok && !pool.disabled && pool.cidr.length() > pool.block_size) {
    ctx.error(cidr_field->where, cidr_field->path,
              fmt::format("pool {} is smaller than its /{} blocks: IP pool size is too small for "
                          "use with Calico IPAM",
                          pool.cidr.to_string(), pool.block_size));
    ok = false;
  }
  if (auto f = spec.get("nodeSelector")) {
    if (auto s = read_selector(ctx, *f)) pool.node_selector = s->empty() ? "all()" : *s;
  }
  if (auto f = spec.get("allowedUses")) {
    if (auto items = read_list(ctx, *f)) {
      pool.allowed_uses.clear();
      for (const auto& item : *items) {
        if (auto i = read_choice(ctx, item, {"Workload", "Tunnel", "LoadBalancer"}, "an allowed use")) {
          pool.allowed_uses.push_back(static_cast<scenario::AllowedUse>(*i));
        }
      }
      if (pool.allowed_uses.empty()) {
        pool.allowed_uses = {scenario::AllowedUse::kWorkload, scenario::AllowedUse::kTunnel};
      }
      const bool lb = std::find(pool.allowed_uses.begin(), pool.allowed_uses.end(),
                                scenario::AllowedUse::kLoadBalancer) != pool.allowed_uses.end();
      if (lb && (pool.ipip_mode != EncapsulationMode::kNever ||
                 pool.vxlan_mode != EncapsulationMode::kNever)) {
        ctx.error(f->where, f->path, "LoadBalancer IP pool cannot have IPIP or VXLAN enabled");
        ok = false;
      }
    }
  }
  not_modelled(ctx, spec, {"namespaceSelector", "assignmentMode"});
  if (!ok) return;
  draft.pools.push_back(std::move(pool));
  draft.pool_names.push_back(Ref{*name, join_path(document.self().path, "metadata.name"), name_where});
  draft.pool_cidrs.push_back(Ref{draft.pools.back().cidr.to_string(), cidr_field->path, cidr_field->where});
}

std::vector<wire::Ipv4Prefix> read_service_cidrs(Ctx& ctx, const Field& field) {
  std::vector<wire::Ipv4Prefix> out;
  auto items = read_list(ctx, field);
  if (!items) return out;
  for (const auto& item : *items) {
    MapView block(ctx, item, {"cidr"});
    if (auto cidr = block.require("cidr")) {
      if (auto p = read_network(ctx, *cidr)) out.push_back(*p);
    }
  }
  return out;
}

void read_bgp_configuration(Draft& draft, const MapView& document) {
  Ctx& ctx = draft.ctx;
  Location name_where;
  auto name = resource_name(draft, document, &name_where);
  if (!name) return;
  scenario::BgpConfiguration config;
  config.name = *name;
  config.where = document.self().where;
  const std::string name_path = join_path(document.self().path, "metadata.name");
  const bool used = global_or_node_name(ctx, *name, name_where, name_path, "BGPConfiguration");
  auto spec_field = document.get("spec");
  if (spec_field) {
    MapView spec(ctx, *spec_field,
                 {"logSeverityScreen", "nodeToNodeMeshEnabled", "asNumber", "serviceLoadBalancerIPs",
                  "serviceExternalIPs", "serviceClusterIPs", "serviceLoadBalancerAggregation",
                  "communities", "prefixAdvertisements", "listenPort", "nodeMeshPassword",
                  "nodeMeshMaxRestartTime", "bindMode", "ignoredInterfaces",
                  "localWorkloadPeeringIPV4", "localWorkloadPeeringIPV6", "programClusterRoutes",
                  "ipv4NormalRoutePriority", "ipv6NormalRoutePriority"});
    if (auto f = spec.get("logSeverityScreen")) {
      // The API's pattern is case-insensitive: ^(?i)(Trace|Debug|Info|Warning|Error|Fatal)?$
      if (auto s = read_string(ctx, *f)) {
        const std::vector<std::string_view> levels{"Trace", "Debug", "Info", "Warning", "Error", "Fatal"};
        bool found = s->empty();
        const auto same = [](std::string_view a, std::string_view b) {
          return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
            const auto low = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
            return low(x) == low(y);
          });
        };
        for (const auto& l : levels) {
          if (same(l, *s)) {
            config.log_severity_screen = std::string(l);
            found = true;
          }
        }
        if (!found) {
          ctx.error(f->where, f->path,
                    fmt::format("{} is not a log level (want {}){}", in_quotes(*s), list_choices(levels),
                                did_you_mean(*s, levels)));
        }
      }
    }
    if (auto f = spec.get("nodeToNodeMeshEnabled")) config.node_to_node_mesh_enabled = read_bool(ctx, *f);
    if (auto f = spec.get("asNumber")) config.as_number = read_as_number(ctx, *f);
    if (auto f = spec.get("serviceClusterIPs")) config.service_cluster_ips = read_service_cidrs(ctx, *f);
    if (auto f = spec.get("serviceExternalIPs")) config.service_external_ips = read_service_cidrs(ctx, *f);
    if (auto f = spec.get("serviceLoadBalancerIPs")) {
      config.service_load_balancer_ips = read_service_cidrs(ctx, *f);
    }
    if (auto f = spec.get("listenPort")) {
      if (auto v = read_int(ctx, *f, 1, 65535)) config.listen_port = static_cast<std::uint16_t>(*v);
    }
    if (auto f = spec.get("nodeMeshMaxRestartTime")) config.node_mesh_max_restart_time = read_duration(ctx, *f);
    if (auto f = spec.get("bindMode")) {
      if (auto i = read_choice(ctx, *f, {"None", "NodeIP"}, "a bind mode")) {
        config.bind_mode = *i == 0 ? "None" : "NodeIP";
      }
    }
    if (auto f = spec.get("ignoredInterfaces")) {
      if (auto l = read_string_list(ctx, *f)) config.ignored_interfaces = *l;
    }
    const bool mesh_off = config.node_to_node_mesh_enabled == false;
    if (mesh_off && spec.get("nodeMeshPassword")) {
      ctx.error(spec.key_where("nodeMeshPassword"), join_path(spec.self().path, "nodeMeshPassword"),
                "nodeMeshPassword cannot be set if nodeToNodeMeshEnabled is false");
    }
    if (mesh_off && spec.get("nodeMeshMaxRestartTime")) {
      ctx.error(spec.key_where("nodeMeshMaxRestartTime"),
                join_path(spec.self().path, "nodeMeshMaxRestartTime"),
                "nodeMeshMaxRestartTime cannot be set if nodeToNodeMeshEnabled is false");
    }
    not_modelled(ctx, spec, {"nodeMeshPassword"}, "ignored: calisim does not model TCP MD5 passwords");
    not_modelled(ctx, spec,
                 {"serviceLoadBalancerAggregation", "communities", "prefixAdvertisements",
                  "localWorkloadPeeringIPV4", "localWorkloadPeeringIPV6", "programClusterRoutes",
                  "ipv4NormalRoutePriority", "ipv6NormalRoutePriority"});
    if (name->starts_with("node.")) {
      // Calico's reference: these are "only valid on the global default BGPConfiguration".
      not_modelled(ctx, spec,
                   {"nodeToNodeMeshEnabled", "asNumber", "serviceClusterIPs", "serviceExternalIPs",
                    "serviceLoadBalancerIPs", "nodeMeshMaxRestartTime"},
                   "only valid on the default BGPConfiguration; ignored here");
    }
  }
  if (!used) return;
  for (std::size_t i = 0; i < draft.bgp_configurations.size(); ++i) {
    if (draft.bgp_configurations[i].name == *name) {
      ctx.error(name_where, name_path,
                fmt::format("BGPConfiguration {} is defined twice (first on line {})", in_quotes(*name),
                            draft.bgp_configuration_names[i].where.line));
      return;
    }
  }
  draft.bgp_configurations.push_back(std::move(config));
  draft.bgp_configuration_names.push_back(Ref{*name, name_path, name_where});
}

void read_bgp_peer(Draft& draft, const MapView& document) {
  Ctx& ctx = draft.ctx;
  auto name = resource_name(draft, document);
  auto spec_field = document.require("spec");
  if (!name || !spec_field) return;
  MapView spec(ctx, *spec_field,
               {"node", "nodeSelector", "peerIP", "asNumber", "localASNumber", "peerSelector",
                "keepOriginalNextHop", "nextHopMode", "password", "sourceAddress", "maxRestartTime",
                "keepaliveTime", "numAllowedLocalASNumbers", "ttlSecurity", "reachableBy",
                "filters", "localWorkloadSelector", "reversePeering"});
  if (!spec.ok()) return;
  scenario::BgpPeer peer;
  peer.name = *name;
  peer.where = document.self().where;
  std::optional<Ref> node_ref;
  bool ok = true;
  if (auto f = spec.get("node")) {
    if (auto s = read_string(ctx, *f)) {
      peer.node = *s;
      node_ref = Ref{*s, f->path, f->where};
    }
  }
  if (auto f = spec.get("nodeSelector")) {
    if (auto s = read_selector(ctx, *f)) peer.node_selector = *s; else ok = false;
  }
  if (auto f = spec.get("peerSelector")) {
    if (auto s = read_selector(ctx, *f)) peer.peer_selector = *s; else ok = false;
  }
  if (auto f = spec.get("peerIP")) {
    // "ip" or "ip:port" (IPv6 would be "[ip]:port").
    if (auto text = read_string(ctx, *f)) {
      std::string_view t = *text;
      std::optional<std::uint16_t> port;
      if (const auto colon = t.find(':'); colon != std::string_view::npos) {
        const std::string_view p = t.substr(colon + 1);
        unsigned v = 0;
        const bool digits = !p.empty() && p.size() <= 5 &&
                            std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (digits) v = static_cast<unsigned>(std::stoul(std::string(p)));
        if (!digits || v == 0 || v > 65535) {
          ctx.error(f->where, f->path,
                    fmt::format("{} is not an IPv4 peer address (want a.b.c.d or a.b.c.d:port)",
                                in_quotes(t)));
          ok = false;
        }
        port = static_cast<std::uint16_t>(v);
        t = t.substr(0, colon);
      }
      if (auto a = wire::Ipv4Address::parse(t)) {
        peer.peer_ip = *a;
        peer.peer_port = port;
      } else if (ok) {
        ctx.error(f->where, f->path,
                  fmt::format("{} is not an IPv4 peer address (want a.b.c.d or a.b.c.d:port)",
                              in_quotes(*text)));
        ok = false;
      }
    } else {
      ok = false;
    }
  }
  if (auto f = spec.get("asNumber")) peer.as_number = read_as_number(ctx, *f);
  if (auto f = spec.get("localASNumber")) peer.local_as_number = read_as_number(ctx, *f);
  if (auto f = spec.get("keepOriginalNextHop")) {
    if (auto b = read_bool(ctx, *f)) peer.keep_original_next_hop = *b;
  }
  if (auto f = spec.get("sourceAddress")) {
    if (auto i = read_choice(ctx, *f, {"UseNodeIP", "None"}, "a source address mode")) {
      peer.source_address = *i == 0 ? "UseNodeIP" : "None";
    }
  }
  if (auto f = spec.get("maxRestartTime")) peer.max_restart_time = read_duration(ctx, *f);
  if (auto f = spec.get("keepaliveTime")) peer.keepalive_time = read_duration(ctx, *f);
  if (auto f = spec.get("numAllowedLocalASNumbers")) {
    if (auto v = read_int(ctx, *f, 0, 10)) peer.num_allowed_local_as_numbers = static_cast<int>(*v);
  }
  if (auto f = spec.get("ttlSecurity")) {
    if (auto v = read_int(ctx, *f, 0, 255)) peer.ttl_security = static_cast<int>(*v);
  }
  if (auto f = spec.get("filters")) {
    if (auto l = read_string_list(ctx, *f)) {
      peer.filters = *l;
      if (!l->empty()) {
        ctx.warning(f->where, f->path, "BGPFilter resources are not modelled; the filters are ignored");
      }
    }
  }
  not_modelled(ctx, spec, {"password"}, "ignored: calisim does not model TCP MD5 passwords");
  not_modelled(ctx, spec, {"nextHopMode", "reachableBy", "localWorkloadSelector", "reversePeering"});

  // libcalico-go validateBGPPeerSpec.
  const std::string& path = spec.self().path;
  if (!peer.node.empty() && !peer.node_selector.empty()) {
    ctx.error(spec.key_where("node"), join_path(path, "node"),
              "node must be empty when nodeSelector is specified");
    ok = false;
  }
  if (peer.peer_ip && !peer.peer_selector.empty()) {
    ctx.error(spec.key_where("peerIP"), join_path(path, "peerIP"),
              "peerIP must be empty when peerSelector is specified");
    ok = false;
  }
  if (peer.as_number && !peer.peer_selector.empty()) {
    ctx.error(spec.key_where("asNumber"), join_path(path, "asNumber"),
              "asNumber must be empty when peerSelector is specified (the peers' own AS is used)");
    ok = false;
  }
  if (!peer.peer_ip && peer.peer_selector.empty()) {
    ctx.error(spec.self().where, path, "a BGPPeer needs peerIP or peerSelector");
    ok = false;
  }
  if (peer.peer_ip && !peer.as_number) {
    ctx.error(spec.key_where("peerIP"), join_path(path, "asNumber"),
              "required field is missing: BIRD needs the AS number of a peer given by peerIP");
    ok = false;
  }
  if (!ok) return;
  draft.bgp_peers.push_back(std::move(peer));
  draft.bgp_peer_nodes.push_back(node_ref);
}

void read_calico_node(Draft& draft, const MapView& document) {
  Ctx& ctx = draft.ctx;
  auto meta = read_metadata(draft, document, false);
  if (!meta || !meta->name) return;
  CalicoNodeDraft node;
  node.name = Ref{*meta->name, join_path(meta->path, "name"), meta->name_where};
  node.labels = meta->labels;
  node.spec.where = document.self().where;
  if (auto spec_field = document.get("spec")) {
    MapView spec(ctx, *spec_field,
                 {"bgp", "ipv4VXLANTunnelAddr", "vxlanTunnelMACAddr", "ipv6VXLANTunnelAddr",
                  "vxlanTunnelMACAddrV6", "orchRefs", "wireguard", "addresses", "interfaces"});
    if (auto f = spec.get("bgp")) {
      MapView bgp(ctx, *f,
                  {"asNumber", "ipv4Address", "ipv6Address", "ipv4IPIPTunnelAddr",
                   "routeReflectorClusterID"});
      if (bgp.ok() && bgp.entries().empty()) {
        ctx.error(f->where, f->path, "spec.bgp should not be empty");
      }
      if (auto v = bgp.get("asNumber")) node.spec.as_number = read_as_number(ctx, *v);
      if (auto v = bgp.get("ipv4Address")) node.spec.ipv4_address = read_prefix(ctx, *v);
      if (auto v = bgp.get("ipv4IPIPTunnelAddr")) node.spec.ipv4_ipip_tunnel_addr = read_address(ctx, *v);
      if (auto v = bgp.get("routeReflectorClusterID")) {
        node.spec.route_reflector_cluster_id = read_address(ctx, *v);
      }
      not_modelled(ctx, bgp, {"ipv6Address"}, "ignored: calisim models IPv4 only");
    }
    if (auto f = spec.get("ipv4VXLANTunnelAddr")) node.spec.ipv4_vxlan_tunnel_addr = read_address(ctx, *f);
    if (auto f = spec.get("vxlanTunnelMACAddr")) node.spec.vxlan_tunnel_mac_addr = read_mac(ctx, *f);
    not_modelled(ctx, spec, {"ipv6VXLANTunnelAddr", "vxlanTunnelMACAddrV6"},
                 "ignored: calisim models IPv4 only");
    not_modelled(ctx, spec, {"wireguard", "addresses", "interfaces"},
                 "ignored: calico-node fills it in from the node itself");
  }
  draft.calico_nodes.push_back(std::move(node));
}

void read_felix_configuration(Draft& draft, const MapView& document) {
  Ctx& ctx = draft.ctx;
  Location name_where;
  auto name = resource_name(draft, document, &name_where);
  if (!name) return;
  const std::string name_path = join_path(document.self().path, "metadata.name");
  scenario::FelixConfiguration config;
  config.name = *name;
  config.where = document.self().where;
  if (auto spec = document.get("spec")) config.spec = read_felix_spec(ctx, *spec);
  if (!global_or_node_name(ctx, *name, name_where, name_path, "FelixConfiguration")) return;
  for (std::size_t i = 0; i < draft.felix_configurations.size(); ++i) {
    if (draft.felix_configurations[i].name == *name) {
      ctx.error(name_where, name_path,
                fmt::format("FelixConfiguration {} is defined twice (first on line {})",
                            in_quotes(*name), draft.felix_configuration_names[i].where.line));
      return;
    }
  }
  draft.felix_configurations.push_back(std::move(config));
  draft.felix_configuration_names.push_back(Ref{*name, name_path, name_where});
}

void read_ipam_configuration(Draft& draft, const MapView& document) {
  Ctx& ctx = draft.ctx;
  Location name_where;
  auto name = resource_name(draft, document, &name_where);
  if (!name) return;
  const std::string name_path = join_path(document.self().path, "metadata.name");
  if (*name != "default") {
    ctx.error(name_where, name_path,
              fmt::format("IPAMConfiguration must be named \"default\", not {}", in_quotes(*name)));
    return;
  }
  if (draft.ipam) {
    ctx.error(name_where, name_path,
              fmt::format("IPAMConfiguration \"default\" is defined twice (first on line {})",
                          draft.ipam->where.line));
    return;
  }
  scenario::IpamConfiguration ipam;
  ipam.where = document.self().where;
  auto spec_field = document.get("spec");
  if (spec_field) {
    MapView spec(ctx, *spec_field,
                 {"strictAffinity", "maxBlocksPerHost", "autoAllocateBlocks",
                  "kubeVirtVMAddressPersistence", "ipCooldownSeconds"});
    if (auto f = spec.get("strictAffinity")) {
      if (auto b = read_bool(ctx, *f)) ipam.strict_affinity = *b;
    }
    if (auto f = spec.get("autoAllocateBlocks")) {
      if (auto b = read_bool(ctx, *f)) ipam.auto_allocate_blocks = *b;
    }
    if (auto f = spec.get("maxBlocksPerHost")) {
      if (auto v = read_int(ctx, *f, 0, 1'000'000)) ipam.max_blocks_per_host = static_cast<int>(*v);
    }
    not_modelled(ctx, spec, {"kubeVirtVMAddressPersistence", "ipCooldownSeconds"});
    if (!ipam.strict_affinity && !ipam.auto_allocate_blocks) {
      ctx.error(spec.self().where, spec.self().path,
                "cannot disable strictAffinity and autoAllocateBlocks at the same time");
      return;
    }
  }
  draft.ipam = ipam;
}

}  // namespace

void read_calico_resource(Draft& draft, const MapView& document, std::string_view kind) {
  if (kind == "IPPool") {
    read_ip_pool(draft, document);
  } else if (kind == "BGPConfiguration") {
    read_bgp_configuration(draft, document);
  } else if (kind == "BGPPeer") {
    read_bgp_peer(draft, document);
  } else if (kind == "Node") {
    read_calico_node(draft, document);
  } else if (kind == "FelixConfiguration") {
    read_felix_configuration(draft, document);
  } else {
    read_ipam_configuration(draft, document);  // IPAMConfiguration, or the CRD's IPAMConfig
  }
}

}  // namespace calisim::calico::detail
