// The calisim.io/v1 Topology document: machines (nodes, routers), the segments between them,
// calico-node's environment, and the checks within it. Traffic and events: scenario_traffic.cpp.

#include <algorithm>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "calico/scenario_parse.hpp"

namespace calisim::calico::detail {
namespace {


// Linux dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or whitespace.
std::string check_interface_name(std::string_view name) {
  if (name.empty()) return "must not be empty";
  if (name.size() > 15) return "is longer than 15 characters (IFNAMSIZ)";
  if (name == "." || name == "..") return "is not a valid interface name";
  for (char c : name) {
    if (c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n') {
      return "may not contain '/', ':' or whitespace";
    }
  }
  return "";
}

// Subnet names are ours: keep them to what reads well in "<subnet>" references and file names.
std::string check_simple_name(std::string_view name) {
  if (name.empty()) return "must not be empty";
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return "may contain only letters, digits, '-', '_' and '.'";
  }
  return "";
}

std::optional<std::string> read_name(Ctx& ctx, const Field& field,
                                     std::string (*check)(std::string_view)) {
  auto name = read_string(ctx, field);
  if (!name) return std::nullopt;
  if (auto problem = check(*name); !problem.empty()) {
    ctx.error(field.where, field.path, fmt::format("{} {}", in_quotes(*name), problem));
    return std::nullopt;
  }
  return name;
}

scenario::Link read_link(Ctx& ctx, const Field& field) {
  scenario::Link link;
  MapView map(ctx, field, {"rate", "delay", "mtu", "fabricMtu", "loss", "queue"});
  if (auto f = map.get("rate")) {
    if (auto v = read_rate(ctx, *f)) link.params.rate_bps = *v;
  }
  if (auto f = map.get("delay")) {
    if (auto v = read_duration(ctx, *f)) link.params.delay = *v;
  }
  if (auto f = map.get("mtu")) {
    if (auto v = read_int(ctx, *f, kMinMtu, kMaxMtu)) link.mtu_bytes = static_cast<std::uint32_t>(*v);
  }
  // What the network between the NICs really carries, when it is less than the NICs were told
  // (an overlay or cloud network): larger packets vanish without an ICMP error.
  if (auto f = map.get("fabricMtu")) {
    if (auto v = read_int(ctx, *f, kMinMtu, kMaxMtu)) {
      link.params.mtu_bytes = static_cast<std::uint32_t>(*v);
    }
  }
  if (auto f = map.get("loss")) {
    if (auto v = read_percentage(ctx, *f)) link.params.loss = *v;
  }
  if (auto f = map.get("queue")) {
    if (auto v = read_int(ctx, *f, 1, 1'000'000)) {
      link.params.queue_limit_packets = static_cast<std::size_t>(*v);
    }
  }
  return link;
}

void read_routes(Ctx& ctx, const Field& field, std::vector<scenario::Route>& routes,
                 std::vector<Ref>& vias) {
  auto items = read_list(ctx, field);
  if (!items) return;
  for (const auto& item : *items) {
    MapView map(ctx, item, {"to", "via"});
    if (!map.ok()) continue;
    auto to = map.require("to");
    auto via = map.require("via");
    std::optional<wire::Ipv4Prefix> prefix;
    if (to) {
      // "default" as ip route writes it.
      if (to->node.IsScalar() && to->node.Scalar() == "default") {
        prefix = wire::Ipv4Prefix(wire::Ipv4Address(), 0);
      } else {
        prefix = read_network(ctx, *to);
      }
    }
    std::optional<wire::Ipv4Address> gateway;
    if (via) gateway = read_address(ctx, *via);
    if (prefix && gateway) {
      routes.push_back(scenario::Route{*prefix, *gateway, item.where});
      vias.push_back(Ref{gateway->to_string(), via->path, via->where});
    }
  }
}

struct InterfaceList {
  std::vector<scenario::Interface> interfaces;
  std::vector<InterfaceDraft> drafts;
};

InterfaceList read_interfaces(Ctx& ctx, const Field& field, bool subnet_required) {
  InterfaceList out;
  auto items = read_list(ctx, field);
  if (!items) return out;
  for (const auto& item : *items) {
    MapView map(ctx, item, {"name", "address", "subnet", "mtu"});
    if (!map.ok()) continue;
    scenario::Interface iface;
    InterfaceDraft draft;
    iface.where = item.where;
    bool ok = true;
    if (auto f = map.require("name")) {
      if (auto n = read_name(ctx, *f, check_interface_name)) {
        iface.name = *n;
        draft.name = Ref{*n, f->path, f->where};
      } else {
        ok = false;
      }
    } else {
      ok = false;
    }
    if (auto f = map.require("address")) {
      if (auto a = read_prefix(ctx, *f)) {
        iface.address = *a;
        draft.address = Ref{a->to_string(), f->path, f->where};
      } else {
        ok = false;
      }
    } else {
      ok = false;
    }
    if (auto f = subnet_required ? map.require("subnet") : map.get("subnet")) {
      if (auto s = read_string(ctx, *f)) {
        iface.subnet = *s;
        draft.subnet = Ref{*s, f->path, f->where};
      }
    }
    if (auto f = map.get("mtu")) {
      if (auto m = read_int(ctx, *f, kMinMtu, kMaxMtu)) draft.mtu_bytes = static_cast<std::uint32_t>(*m);
    }
    if (!ok) continue;
    out.interfaces.push_back(std::move(iface));
    out.drafts.push_back(std::move(draft));
  }
  return out;
}

std::optional<wire::Ipv4Address> read_gateway(Ctx& ctx, const MapView& map, MachineDraft& draft) {
  auto f = map.get("defaultGateway");
  if (!f) return std::nullopt;
  auto gateway = read_address(ctx, *f);
  if (gateway) draft.gateway = Ref{gateway->to_string(), f->path, f->where};
  return gateway;
}

void read_nodes(Draft& draft, const Field& field) {
  Ctx& ctx = draft.ctx;
  auto items = read_list(ctx, field);
  if (!items) return;
  for (const auto& item : *items) {
    MapView map(ctx, item,
                {"name", "role", "labels", "interfaces", "defaultGateway", "routes", "calicoNode"});
    if (!map.ok()) continue;
    scenario::Node node;
    MachineDraft md;
    node.where = item.where;
    auto name_field = map.require("name");
    if (!name_field) continue;
    auto name = read_name(ctx, *name_field, check_dns_subdomain);
    if (!name) continue;
    node.name = *name;
    md.name = Ref{*name, name_field->path, name_field->where};
    if (auto f = map.get("role")) {
      if (auto r = read_choice(ctx, *f, {"control-plane", "worker"}, "a node role")) {
        node.role = *r == 0 ? scenario::NodeRole::kControlPlane : scenario::NodeRole::kWorker;
      }
    }
    if (auto f = map.get("labels")) {
      if (auto l = read_labels(ctx, *f)) node.labels = *l;
    }
    if (auto f = map.require("interfaces")) {
      auto list = read_interfaces(ctx, *f, false);
      node.interfaces = std::move(list.interfaces);
      md.interfaces = std::move(list.drafts);
      if (f->node.IsSequence() && f->node.size() == 0) {
        ctx.error(f->where, f->path, "a node needs at least one interface");
      }
    }
    node.default_gateway = read_gateway(ctx, map, md);
    if (auto f = map.get("routes")) read_routes(ctx, *f, node.routes, md.route_vias);
    if (auto f = map.get("calicoNode")) {
      MapView calico_node(ctx, *f, {"env"});
      if (auto env = calico_node.get("env")) {
        md.env = read_env(ctx, *env, scenario::EnvSource::kNode);
        md.env_path = env->path;
      }
    }
    draft.out.nodes.push_back(std::move(node));
    draft.nodes.push_back(std::move(md));
  }
}

void read_routers(Draft& draft, const Field& field) {
  Ctx& ctx = draft.ctx;
  auto items = read_list(ctx, field);
  if (!items) return;
  for (const auto& item : *items) {
    MapView map(ctx, item, {"name", "interfaces", "defaultGateway", "routes"});
    if (!map.ok()) continue;
    scenario::Router router;
    MachineDraft md;
    router.where = item.where;
    auto name_field = map.require("name");
    if (!name_field) continue;
    auto name = read_name(ctx, *name_field, check_dns_subdomain);
    if (!name) continue;
    router.name = *name;
    md.name = Ref{*name, name_field->path, name_field->where};
    if (auto f = map.require("interfaces")) {
      auto list = read_interfaces(ctx, *f, true);
      router.interfaces = std::move(list.interfaces);
      md.interfaces = std::move(list.drafts);
    }
    router.default_gateway = read_gateway(ctx, map, md);
    if (auto f = map.get("routes")) read_routes(ctx, *f, router.routes, md.route_vias);
    draft.out.routers.push_back(std::move(router));
    draft.routers.push_back(std::move(md));
  }
}

void read_subnets(Draft& draft, const Field& field) {
  Ctx& ctx = draft.ctx;
  auto items = read_list(ctx, field);
  if (!items) return;
  for (const auto& item : *items) {
    MapView map(ctx, item, {"name", "cidr", "link"});
    if (!map.ok()) continue;
    scenario::Subnet subnet;
    subnet.where = item.where;
    auto name_field = map.require("name");
    auto cidr_field = map.require("cidr");
    std::optional<std::string> name;
    if (name_field) name = read_name(ctx, *name_field, check_simple_name);
    std::optional<wire::Ipv4Prefix> cidr;
    if (cidr_field) cidr = read_network(ctx, *cidr_field);
    if (auto f = map.get("link")) subnet.link = read_link(ctx, *f);
    if (!name || !cidr) continue;
    subnet.name = *name;
    subnet.cidr = *cidr;
    draft.out.subnets.push_back(std::move(subnet));
    draft.subnets.push_back(Ref{*name, name_field->path, name_field->where});
    draft.subnet_cidrs.push_back(Ref{cidr->to_string(), cidr_field->path, cidr_field->where});
  }
}

// An interface and its owner (node or router), for the checks below.
struct Port {
  std::string owner;
  std::size_t machine;  // one number per node or router, even when two share a name
  scenario::Interface* iface;
  InterfaceDraft* draft;
};

// Gateways and route next hops must be on-link: inside one of the machine's own prefixes.
void check_on_link(Ctx& ctx, const std::vector<scenario::Interface>& ifaces, const Ref& hop_ref,
                   wire::Ipv4Address hop, const std::string& owner, std::string_view what) {
  for (const auto& iface : ifaces) {
    if (iface.address.address() == hop) {
      ctx.error(hop_ref.where, hop_ref.path,
                fmt::format("{} {} is {}'s own address", what, hop.to_string(), owner));
      return;
    }
  }
  for (const auto& iface : ifaces) {
    if (iface.address.contains(hop)) return;
  }
  ctx.error(hop_ref.where, hop_ref.path,
            fmt::format("{} {} is not on any subnet of {}'s interfaces", what, hop.to_string(),
                        owner));
}

void check_machine_routes(Ctx& ctx, const std::vector<scenario::Interface>& ifaces,
                          const std::optional<wire::Ipv4Address>& gateway,
                          const std::vector<scenario::Route>& routes, const MachineDraft& md,
                          const std::string& owner) {
  if (gateway && md.gateway) check_on_link(ctx, ifaces, *md.gateway, *gateway, owner, "gateway");
  for (std::size_t i = 0; i < routes.size() && i < md.route_vias.size(); ++i) {
    check_on_link(ctx, ifaces, md.route_vias[i], routes[i].via, owner, "next hop");
  }
}

// Checks within the Topology: names, subnet references, addresses, gateways and routes.
void check_topology(Draft& draft) {
  Ctx& ctx = draft.ctx;
  Scenario& s = draft.out;

  std::map<std::string, Location, std::less<>> subnet_names;
  for (const auto& ref : draft.subnets) {
    if (auto [it, fresh] = subnet_names.emplace(ref.name, ref.where); !fresh) {
      ctx.error(ref.where, ref.path, fmt::format("duplicate subnet name {} (first on line {})",
                                                 in_quotes(ref.name), it->second.line));
    }
  }
  for (std::size_t i = 0; i < s.subnets.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const auto& a = s.subnets[j];
      const auto& b = s.subnets[i];
      if (a.cidr.contains(b.cidr.address()) || b.cidr.contains(a.cidr.address())) {
        ctx.error(draft.subnet_cidrs[i].where, draft.subnet_cidrs[i].path,
                  fmt::format("{} overlaps subnet {} ({})", b.cidr.to_string(), in_quotes(a.name),
                              a.cidr.to_string()));
      }
    }
  }

  // Node and router names share one namespace: "node:<name>" and event targets name either.
  std::map<std::string, Location, std::less<>> machine_names;
  auto claim = [&](const Ref& ref, std::string_view what) {
    if (auto [it, fresh] = machine_names.emplace(ref.name, ref.where); !fresh) {
      ctx.error(ref.where, ref.path, fmt::format("duplicate {} name {} (already used on line {})",
                                                 what, in_quotes(ref.name), it->second.line));
    }
  };
  for (const auto& md : draft.nodes) claim(md.name, "node");
  for (const auto& md : draft.routers) claim(md.name, "router");

  std::vector<std::string> subnet_list;
  for (const auto& subnet : s.subnets) subnet_list.push_back(subnet.name);

  std::vector<Port> ports;
  for (std::size_t n = 0; n < s.nodes.size(); ++n) {
    for (std::size_t i = 0; i < s.nodes[n].interfaces.size(); ++i) {
      ports.push_back(
          Port{s.nodes[n].name, n, &s.nodes[n].interfaces[i], &draft.nodes[n].interfaces[i]});
    }
  }
  for (std::size_t r = 0; r < s.routers.size(); ++r) {
    for (std::size_t i = 0; i < s.routers[r].interfaces.size(); ++i) {
      ports.push_back(
          Port{s.routers[r].name, s.nodes.size() + r, &s.routers[r].interfaces[i],
               &draft.routers[r].interfaces[i]});
    }
  }

  std::map<std::pair<std::size_t, std::string>, Location> interface_names;
  // (subnet, address) -> "<owner> <interface>": one address per segment.
  std::map<std::pair<std::string, std::uint32_t>, std::string> addresses;
  for (auto& port : ports) {
    scenario::Interface& iface = *port.iface;
    const Ref& name_ref = port.draft->name;
    const Ref& address_ref = port.draft->address;
    if (auto [it, fresh] = interface_names.emplace(std::pair{port.machine, iface.name}, name_ref.where);
        !fresh) {
      ctx.error(name_ref.where, name_ref.path,
                fmt::format("{} already has an interface named {} (line {})", port.owner,
                            in_quotes(iface.name), it->second.line));
    }
    const scenario::Subnet* subnet = nullptr;
    if (port.draft->subnet) {
      const Ref& ref = *port.draft->subnet;
      subnet = s.find_subnet(ref.name);
      if (subnet == nullptr) {
        ctx.error(ref.where, ref.path,
                  fmt::format("no subnet named {}{}", in_quotes(ref.name),
                              did_you_mean(ref.name, subnet_list)));
      }
    }
    iface.mtu_bytes = port.draft->mtu_bytes.value_or(subnet ? subnet->link.mtu_bytes : 1500);
    if (subnet == nullptr) continue;
    const auto address = iface.address.address();
    if (!subnet->cidr.contains(address)) {
      ctx.error(address_ref.where, address_ref.path,
                fmt::format("{} is outside subnet {} ({})", iface.address.to_string(),
                            in_quotes(subnet->name), subnet->cidr.to_string()));
      continue;
    }
    if (iface.address.length() != subnet->cidr.length()) {
      ctx.error(address_ref.where, address_ref.path,
                fmt::format("{} has prefix length /{} but subnet {} is a /{}",
                            iface.address.to_string(), iface.address.length(),
                            in_quotes(subnet->name), subnet->cidr.length()));
    }
    if (subnet->cidr.length() <= 30 &&
        (address == subnet->cidr.network() || address == subnet->cidr.broadcast())) {
      ctx.error(address_ref.where, address_ref.path,
                fmt::format("{} is the {} address of subnet {}", address.to_string(),
                            address == subnet->cidr.network() ? "network" : "broadcast",
                            in_quotes(subnet->name)));
    }
    const auto key = std::pair{subnet->name, address.value()};
    if (auto [it, fresh] = addresses.emplace(key, fmt::format("{} {}", port.owner, iface.name));
        !fresh) {
      ctx.error(address_ref.where, address_ref.path,
                fmt::format("{} is already used on subnet {} by {}", address.to_string(),
                            in_quotes(subnet->name), it->second));
    }
  }

  for (std::size_t n = 0; n < s.nodes.size(); ++n) {
    const auto& node = s.nodes[n];
    check_machine_routes(ctx, node.interfaces, node.default_gateway, node.routes, draft.nodes[n],
                         node.name);
  }
  for (std::size_t r = 0; r < s.routers.size(); ++r) {
    const auto& router = s.routers[r];
    check_machine_routes(ctx, router.interfaces, router.default_gateway, router.routes,
                         draft.routers[r], router.name);
    if (router.interfaces.size() < 2) {
      ctx.warning(draft.routers[r].name.where, draft.routers[r].name.path,
                  fmt::format("router {} has {} interface(s); a router joins two subnets or more",
                              router.name, router.interfaces.size()));
    }
  }
}

}  // namespace

void read_topology(Draft& draft, const MapView& document) {
  Ctx& ctx = draft.ctx;
  ++draft.topologies;
  if (draft.topologies > 1) {
    ctx.error(document.self().where, document.self().path,
              fmt::format("a second Topology document (the first is on line {}); a scenario has "
                          "exactly one",
                          draft.topology_where.line));
    return;
  }
  draft.topology_where = document.self().where;
  if (auto meta = read_metadata(draft, document, false)) {
    if (meta->name) draft.out.name = *meta->name;
  }
  auto spec_field = document.require("spec");
  if (!spec_field) return;
  MapView spec(ctx, *spec_field,
               {"seed", "duration", "subnets", "nodes", "routers", "calicoNode", "traffic",
                "events"});
  if (!spec.ok()) return;
  if (auto f = spec.get("seed")) {
    if (auto v = read_int(ctx, *f, 0, std::numeric_limits<std::int64_t>::max())) {
      draft.out.seed = static_cast<std::uint64_t>(*v);
    }
  }
  if (auto f = spec.get("duration")) {
    if (auto v = read_duration(ctx, *f)) {
      if (*v == Duration::zero()) {
        ctx.error(f->where, f->path, "duration must be above 0s");
      } else {
        draft.out.duration = *v;
      }
    }
  }
  if (auto f = spec.get("subnets")) read_subnets(draft, *f);
  if (auto f = spec.require("nodes")) read_nodes(draft, *f);
  if (auto f = spec.get("routers")) read_routers(draft, *f);
  if (auto f = spec.get("calicoNode")) {
    MapView calico_node(ctx, *f, {"env"});
    if (auto env = calico_node.get("env")) {
      draft.global_env = read_env(ctx, *env, scenario::EnvSource::kGlobal);
    }
  }
  if (auto f = spec.get("traffic")) read_traffic(draft, *f);
  if (auto f = spec.get("events")) read_events(draft, *f);

  check_topology(draft);
  check_events(draft);
}

}  // namespace calisim::calico::detail
