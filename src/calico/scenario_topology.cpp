// The calisim.io/v1 Topology document: machines, segments, calico-node's environment, traffic
// and events.

#include <algorithm>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "calico/scenario_parse.hpp"

namespace calisim::calico::detail {
namespace {

using scenario::EventAction;

constexpr std::int64_t kMinMtu = 68;      // RFC 791: every host must take 68 bytes
constexpr std::int64_t kMaxMtu = 65535;

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
  MapView map(ctx, field, {"rate", "delay", "mtu", "loss", "queue"});
  if (auto f = map.get("rate")) {
    if (auto v = read_rate(ctx, *f)) link.params.rate_bps = *v;
  }
  if (auto f = map.get("delay")) {
    if (auto v = read_duration(ctx, *f)) link.params.delay = *v;
  }
  if (auto f = map.get("mtu")) {
    if (auto v = read_int(ctx, *f, kMinMtu, kMaxMtu)) link.mtu_bytes = static_cast<std::uint32_t>(*v);
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

// "<namespace>/<pod>", "node:<name>" or an IPv4 address.
std::optional<EndpointRef> read_endpoint(Ctx& ctx, const Field& field) {
  auto text = read_string(ctx, field);
  if (!text) return std::nullopt;
  scenario::Endpoint e;
  const std::string_view t = *text;
  if (t.starts_with("node:")) {
    e.kind = scenario::Endpoint::Kind::kNode;
    e.name = std::string(t.substr(5));
    if (e.name.empty()) {
      ctx.error(field.where, field.path, "\"node:\" needs a node name, as in \"node:worker-1\"");
      return std::nullopt;
    }
    return EndpointRef{e, Ref{e.name, field.path, field.where}};
  }
  if (const auto slash = t.find('/'); slash != std::string_view::npos) {
    e.kind = scenario::Endpoint::Kind::kPod;
    e.namespace_name = std::string(t.substr(0, slash));
    e.name = std::string(t.substr(slash + 1));
    if (e.namespace_name.empty() || e.name.empty() || e.name.find('/') != std::string::npos) {
      ctx.error(field.where, field.path,
                fmt::format("{} is not a pod reference (want <namespace>/<pod>)", in_quotes(t)));
      return std::nullopt;
    }
    return EndpointRef{e, Ref{std::string(t), field.path, field.where}};
  }
  if (auto address = wire::Ipv4Address::parse(t)) {
    e.kind = scenario::Endpoint::Kind::kAddress;
    e.address = *address;
    return EndpointRef{e, Ref{std::string(t), field.path, field.where}};
  }
  std::string hint;
  if (check_dns_subdomain(t).empty()) hint = fmt::format(" (did you mean \"default/{}\"?)", t);
  ctx.error(field.where, field.path,
            fmt::format("{} is not an endpoint (want <namespace>/<pod>, node:<name> or an IPv4 "
                        "address){}",
                        in_quotes(t), hint));
  return std::nullopt;
}

std::optional<scenario::PingSpec> read_ping(Ctx& ctx, const Field& field, TrafficDraft& draft) {
  MapView map(ctx, field, {"from", "to", "count", "interval", "size", "ttl"});
  if (!map.ok()) return std::nullopt;
  scenario::PingSpec ping;
  bool ok = true;
  if (auto f = map.require("from")) {
    draft.from = read_endpoint(ctx, *f);
    if (draft.from && draft.from->endpoint.kind == scenario::Endpoint::Kind::kAddress) {
      ctx.error(f->where, f->path,
                "a ping runs in a pod or on a node: want <namespace>/<pod> or node:<name>");
      draft.from.reset();
    }
    ok = ok && draft.from.has_value();
  } else {
    ok = false;
  }
  if (auto f = map.require("to")) {
    draft.to = read_endpoint(ctx, *f);
    ok = ok && draft.to.has_value();
  } else {
    ok = false;
  }
  if (auto f = map.get("count")) {
    if (auto v = read_int(ctx, *f, 1, 1'000'000)) ping.count = static_cast<int>(*v);
  }
  if (auto f = map.get("interval")) {
    if (auto v = read_duration(ctx, *f)) {
      if (*v == Duration::zero()) {
        ctx.error(f->where, f->path, "interval must be above 0s");
      } else {
        ping.interval = *v;
      }
    }
  }
  if (auto f = map.get("size")) {
    // 65507 = 65535 - 20 (IPv4) - 8 (ICMP): ping's own limit.
    if (auto v = read_int(ctx, *f, 0, 65507)) ping.size_bytes = static_cast<std::size_t>(*v);
  }
  if (auto f = map.get("ttl")) {
    if (auto v = read_int(ctx, *f, 1, 255)) ping.ttl = static_cast<std::uint8_t>(*v);
  }
  if (!ok) return std::nullopt;
  ping.from = draft.from->endpoint;
  ping.to = draft.to->endpoint;
  return ping;
}

std::optional<scenario::FlowSpec> read_flow(Ctx& ctx, const Field& field, TrafficDraft& draft) {
  MapView map(ctx, field, {"from", "to", "protocol", "port", "bytes"});
  if (!map.ok()) return std::nullopt;
  scenario::FlowSpec flow;
  bool ok = true;
  if (auto f = map.require("from")) {
    draft.from = read_endpoint(ctx, *f);
    if (draft.from && draft.from->endpoint.kind == scenario::Endpoint::Kind::kAddress) {
      ctx.error(f->where, f->path,
                "a flow starts in a pod or on a node: want <namespace>/<pod> or node:<name>");
      draft.from.reset();
    }
    ok = ok && draft.from.has_value();
  } else {
    ok = false;
  }
  if (auto f = map.require("to")) {
    draft.to = read_endpoint(ctx, *f);
    ok = ok && draft.to.has_value();
  } else {
    ok = false;
  }
  if (auto f = map.require("protocol")) {
    if (auto p = read_choice(ctx, *f, {"tcp", "udp"}, "a transport protocol")) {
      flow.protocol = *p == 0 ? scenario::TransportProtocol::kTcp : scenario::TransportProtocol::kUdp;
    } else {
      ok = false;
    }
  } else {
    ok = false;
  }
  if (auto f = map.require("port")) {
    if (auto v = read_int(ctx, *f, 1, 65535)) {
      flow.port = static_cast<std::uint16_t>(*v);
    } else {
      ok = false;
    }
  } else {
    ok = false;
  }
  if (auto f = map.require("bytes")) {
    if (auto v = read_byte_size(ctx, *f)) {
      if (*v == 0) {
        ctx.error(f->where, f->path, "a flow must carry at least 1 byte");
        ok = false;
      }
      flow.bytes = *v;
    } else {
      ok = false;
    }
  } else {
    ok = false;
  }
  if (!ok) return std::nullopt;
  flow.from = draft.from->endpoint;
  flow.to = draft.to->endpoint;
  return flow;
}

void read_traffic(Draft& draft, const Field& field) {
  Ctx& ctx = draft.ctx;
  auto items = read_list(ctx, field);
  if (!items) return;
  for (const auto& item : *items) {
    MapView map(ctx, item, {"at", "ping", "flow"});
    if (!map.ok()) continue;
    TrafficDraft t;
    t.traffic.where = item.where;
    bool ok = true;
    if (auto f = map.require("at")) {
      if (auto at = read_duration(ctx, *f)) {
        t.traffic.at = *at;
      } else {
        ok = false;
      }
    } else {
      ok = false;
    }
    const auto ping = map.get("ping");
    const auto flow = map.get("flow");
    if (ping && flow) {
      ctx.error(map.key_where("flow"), join_path(item.path, "flow"),
                "give either ping or flow, not both: one traffic item is one thing");
      continue;
    }
    if (!ping && !flow) {
      ctx.error(item.where, item.path, "a traffic item needs ping or flow");
      continue;
    }
    if (ping) {
      t.traffic.ping = read_ping(ctx, *ping, t);
      ok = ok && t.traffic.ping.has_value();
    } else {
      t.traffic.flow = read_flow(ctx, *flow, t);
      ok = ok && t.traffic.flow.has_value();
    }
    if (ok) draft.traffic.push_back(std::move(t));
  }
}

struct ActionRule {
  std::string_view name;
  EventAction action;
  std::vector<std::string_view> required;
};

const std::vector<ActionRule>& action_rules() {
  static const std::vector<ActionRule> rules{
      {"linkDown", EventAction::kLinkDown, {"node", "interface"}},
      {"linkUp", EventAction::kLinkUp, {"node", "interface"}},
      {"nodeCrash", EventAction::kNodeCrash, {"node"}},
      {"nodeRestart", EventAction::kNodeRestart, {"node"}},
      {"setLoss", EventAction::kSetLoss, {"subnet", "loss"}},
      {"setDelay", EventAction::kSetDelay, {"subnet", "delay"}},
      {"setRate", EventAction::kSetRate, {"subnet", "rate"}},
      {"setMtu", EventAction::kSetMtu, {"mtu"}},  // and subnet, or node + interface
      {"blockProtocol", EventAction::kBlockProtocol, {"subnet", "protocol"}},
      {"unblockProtocol", EventAction::kUnblockProtocol, {"subnet", "protocol"}},
  };
  return rules;
}

std::optional<scenario::ProtocolMatch> parse_protocol(std::string_view text) {
  static const std::map<std::string_view, scenario::ProtocolMatch, std::less<>> kNamed{
      {"icmp", {1, std::nullopt, ""}},
      {"ipip", {4, std::nullopt, ""}},
      {"tcp", {6, std::nullopt, ""}},
      {"udp", {17, std::nullopt, ""}},
      {"esp", {50, std::nullopt, ""}},
      {"vxlan", {17, 4789, ""}},        // Calico's VXLANPort
      {"wireguard", {17, 51820, ""}},   // Calico's WireguardListeningPort
      {"bgp", {6, 179, ""}},
  };
  auto number = [](std::string_view s, unsigned max) -> std::optional<unsigned> {
    if (s.empty() || s.size() > 5) return std::nullopt;
    unsigned v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v > max) return std::nullopt;
    return v;
  };
  scenario::ProtocolMatch m;
  m.text = std::string(text);
  if (auto it = kNamed.find(text); it != kNamed.end()) {
    m.ip_protocol = it->second.ip_protocol;
    m.port = it->second.port;
    return m;
  }
  if (auto n = number(text, 255)) {
    m.ip_protocol = static_cast<std::uint8_t>(*n);
    return m;
  }
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view proto = text.substr(0, slash);
  const auto port = number(text.substr(slash + 1), 65535);
  if (!port || *port == 0 || (proto != "udp" && proto != "tcp")) return std::nullopt;
  m.ip_protocol = proto == "udp" ? 17 : 6;
  m.port = static_cast<std::uint16_t>(*port);
  return m;
}

void read_events(Draft& draft, const Field& field) {
  Ctx& ctx = draft.ctx;
  auto items = read_list(ctx, field);
  if (!items) return;
  std::vector<std::string_view> action_names;
  for (const auto& r : action_rules()) action_names.push_back(r.name);
  const std::vector<std::string_view> parameters{"node", "interface", "subnet", "loss",
                                                 "delay", "rate", "mtu", "protocol"};
  for (const auto& item : *items) {
    MapView map(ctx, item,
                {"at", "action", "node", "interface", "subnet", "loss", "delay", "rate", "mtu",
                 "protocol"});
    if (!map.ok()) continue;
    EventDraft e;
    e.event.where = item.where;
    bool ok = true;
    if (auto f = map.require("at")) {
      if (auto at = read_duration(ctx, *f)) {
        e.event.at = *at;
      } else {
        ok = false;
      }
    } else {
      ok = false;
    }
    auto action_field = map.require("action");
    if (!action_field) continue;
    const auto index = read_choice(ctx, *action_field, action_names, "an event action");
    if (!index) continue;
    const ActionRule& rule = action_rules()[*index];
    e.event.action = rule.action;

    // Which parameters this action takes.
    std::vector<std::string_view> allowed = rule.required;
    if (rule.action == EventAction::kSetMtu) allowed = {"mtu", "subnet", "node", "interface"};
    for (const auto& p : parameters) {
      const bool given = map.get(p).has_value();
      const bool takes = std::find(allowed.begin(), allowed.end(), p) != allowed.end();
      if (given && !takes) {
        ctx.error(map.key_where(p), join_path(item.path, p),
                  fmt::format("{} takes {}, not {}", rule.name, list_choices(allowed), p));
        ok = false;
      }
    }
    for (const auto& p : rule.required) {
      if (!map.require(p)) ok = false;
    }
    if (rule.action == EventAction::kSetMtu) {
      const bool subnet = map.get("subnet").has_value();
      const bool node = map.get("node").has_value();
      const bool iface = map.get("interface").has_value();
      if (subnet == (node || iface)) {
        ctx.error(item.where, item.path,
                  "setMtu takes either subnet, or node and interface");
        ok = false;
      } else if (node != iface) {
        ctx.error(item.where, item.path, "setMtu on an interface needs both node and interface");
        ok = false;
      }
    }
    if (auto f = map.get("node")) {
      if (auto s = read_string(ctx, *f)) {
        e.event.node = *s;
        e.node = Ref{*s, f->path, f->where};
      }
    }
    if (auto f = map.get("interface")) {
      if (auto s = read_string(ctx, *f)) {
        e.event.interface = *s;
        e.interface = Ref{*s, f->path, f->where};
      }
    }
    if (auto f = map.get("subnet")) {
      if (auto s = read_string(ctx, *f)) {
        e.event.subnet = *s;
        e.subnet = Ref{*s, f->path, f->where};
      }
    }
    if (auto f = map.get("loss")) {
      if (auto v = read_percentage(ctx, *f)) {
        e.event.loss = *v;
      } else {
        ok = false;
      }
    }
    if (auto f = map.get("delay")) {
      if (auto v = read_duration(ctx, *f)) {
        e.event.delay = *v;
      } else {
        ok = false;
      }
    }
    if (auto f = map.get("rate")) {
      if (auto v = read_rate(ctx, *f)) {
        e.event.rate_bps = *v;
      } else {
        ok = false;
      }
    }
    if (auto f = map.get("mtu")) {
      if (auto v = read_int(ctx, *f, kMinMtu, kMaxMtu)) {
        e.event.mtu_bytes = static_cast<std::uint32_t>(*v);
      } else {
        ok = false;
      }
    }
    if (auto f = map.get("protocol")) {
      if (auto text = read_string(ctx, *f)) {
        if (auto p = parse_protocol(*text)) {
          e.event.protocol = *p;
        } else {
          ctx.error(f->where, f->path,
                    fmt::format("{} is not a protocol (want ipip, vxlan, wireguard, bgp, icmp, "
                                "tcp, udp, esp, an IP protocol number 0..255, udp/<port> or "
                                "tcp/<port>)",
                                in_quotes(*text)));
          ok = false;
        }
      } else {
        ok = false;
      }
    }
    if (ok) draft.events.push_back(std::move(e));
  }
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

// Node and subnet references in events, now that the Topology is complete.
void check_events(Draft& draft) {
  Ctx& ctx = draft.ctx;
  const Scenario& s = draft.out;
  std::vector<std::string> machines;
  for (const auto& n : s.nodes) machines.push_back(n.name);
  for (const auto& r : s.routers) machines.push_back(r.name);
  std::vector<std::string> subnets;
  for (const auto& sn : s.subnets) subnets.push_back(sn.name);

  for (auto& e : draft.events) {
    if (e.subnet && s.find_subnet(e.subnet->name) == nullptr) {
      ctx.error(e.subnet->where, e.subnet->path,
                fmt::format("no subnet named {}{}", in_quotes(e.subnet->name),
                            did_you_mean(e.subnet->name, subnets)));
    }
    if (!e.node) continue;
    const std::vector<scenario::Interface>* ifaces = nullptr;
    if (const auto* node = s.find_node(e.node->name)) {
      ifaces = &node->interfaces;
    } else if (const auto* router = s.find_router(e.node->name)) {
      ifaces = &router->interfaces;
      if (e.event.action == EventAction::kNodeCrash || e.event.action == EventAction::kNodeRestart) {
        ctx.error(e.node->where, e.node->path,
                  fmt::format("{} is a router; nodeCrash and nodeRestart act on nodes",
                              in_quotes(e.node->name)));
      }
    } else {
      ctx.error(e.node->where, e.node->path,
                fmt::format("no node or router named {}{}", in_quotes(e.node->name),
                            did_you_mean(e.node->name, machines)));
      continue;
    }
    if (e.interface) {
      std::vector<std::string> names;
      for (const auto& i : *ifaces) names.push_back(i.name);
      if (std::find(names.begin(), names.end(), e.interface->name) == names.end()) {
        ctx.error(e.interface->where, e.interface->path,
                  fmt::format("{} has no interface {}{}", e.node->name, in_quotes(e.interface->name),
                              did_you_mean(e.interface->name, names)));
      }
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
