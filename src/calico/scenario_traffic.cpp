// The Topology's traffic (pings and flows between pods, nodes and addresses) and events
// (faults and their repair), and the checks of what they name.

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "calico/scenario_parse.hpp"

namespace calisim::calico::detail {
namespace {

using scenario::EventAction;

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

// The `from` and `to` of a ping or a flow: `from` must be a pod or a node (something that
// runs the command), `to` any endpoint. False when either is missing or wrong.
bool read_from_to(Ctx& ctx, MapView& map, TrafficDraft& draft, std::string_view from_rule) {
  bool ok = true;
  if (auto f = map.require("from")) {
    draft.from = read_endpoint(ctx, *f);
    if (draft.from && draft.from->endpoint.kind == scenario::Endpoint::Kind::kAddress) {
      ctx.error(f->where, f->path,
                fmt::format("{}: want <namespace>/<pod> or node:<name>", from_rule));
      draft.from.reset();
    }
    ok = draft.from.has_value();
  } else {
    ok = false;
  }
  if (auto f = map.require("to")) {
    draft.to = read_endpoint(ctx, *f);
    ok = ok && draft.to.has_value();
  } else {
    ok = false;
  }
  return ok;
}

std::optional<scenario::PingSpec> read_ping(Ctx& ctx, const Field& field, TrafficDraft& draft) {
  MapView map(ctx, field, {"from", "to", "count", "interval", "size", "ttl"});
  if (!map.ok()) return std::nullopt;
  scenario::PingSpec ping;
  bool ok = read_from_to(ctx, map, draft, "a ping runs in a pod or on a node");
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
  bool ok = read_from_to(ctx, map, draft, "a flow starts in a pod or on a node");
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

}  // namespace
}  // namespace calisim::calico::detail

namespace calisim::calico::scenario {

const std::vector<EventActionRule>& event_action_rules() {
  static const std::vector<EventActionRule> rules{
      {"linkDown", EventAction::kLinkDown, {"node", "interface"}, {"node", "interface"}},
      {"linkUp", EventAction::kLinkUp, {"node", "interface"}, {"node", "interface"}},
      {"nodeCrash", EventAction::kNodeCrash, {"node"}, {"node"}},
      {"nodeRestart", EventAction::kNodeRestart, {"node"}, {"node"}},
      {"setLoss", EventAction::kSetLoss, {"subnet", "loss"}, {"subnet", "loss"}},
      {"setDelay", EventAction::kSetDelay, {"subnet", "delay"}, {"subnet", "delay"}},
      {"setRate", EventAction::kSetRate, {"subnet", "rate"}, {"subnet", "rate"}},
      // and subnet, or node + interface
      {"setMtu", EventAction::kSetMtu, {"mtu"}, {"mtu", "subnet", "node", "interface"}},
      {"setFabricMtu", EventAction::kSetFabricMtu, {"subnet", "mtu"}, {"subnet", "mtu"}},
      {"blockProtocol", EventAction::kBlockProtocol, {"subnet", "protocol"}, {"subnet", "protocol"}},
      {"unblockProtocol", EventAction::kUnblockProtocol, {"subnet", "protocol"},
       {"subnet", "protocol"}},
  };
  return rules;
}

const EventActionRule* find_event_action(std::string_view name) {
  for (const auto& r : event_action_rules()) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

std::optional<ProtocolMatch> parse_protocol_match(std::string_view text) {
  static const std::map<std::string_view, ProtocolMatch, std::less<>> kNamed{
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
  ProtocolMatch m;
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

}  // namespace calisim::calico::scenario

namespace calisim::calico::detail {

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

void read_events(Draft& draft, const Field& field) {
  Ctx& ctx = draft.ctx;
  auto items = read_list(ctx, field);
  if (!items) return;
  std::vector<std::string_view> action_names;
  for (const auto& r : scenario::event_action_rules()) action_names.push_back(r.name);
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
    const scenario::EventActionRule& rule = scenario::event_action_rules()[*index];
    e.event.action = rule.action;

    // Which parameters this action takes.
    const std::vector<std::string_view>& allowed = rule.allowed;
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
        if (auto p = scenario::parse_protocol_match(*text)) {
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

}  // namespace calisim::calico::detail
