#include <calisim/dataplane/route_views.hpp>

#include <iterator>

#include <fmt/format.h>

namespace calisim::dataplane {
namespace {

// RTF_* from include/uapi/linux/route.h.
constexpr unsigned kRtfUp = 0x0001;
constexpr unsigned kRtfGateway = 0x0002;
constexpr unsigned kRtfHost = 0x0004;
constexpr unsigned kRtfReject = 0x0200;

std::string device_name(const IfNames& names, std::uint32_t ifindex) {
  std::string name = names.name ? names.name(ifindex) : std::string();
  if (name.empty()) name = fmt::format("if{}", ifindex);  // ll_index_to_name
  return name;
}

// iproute2 prints host routes and `from` selectors without "/32".
std::string prefix_text(const wire::Ipv4Prefix& p) {
  if (p.length() == 32) return p.address().to_string();
  return p.to_string();
}

bool has_carrier(const IfNames& names, std::uint32_t ifindex) {
  return !names.carrier || names.carrier(ifindex);
}

// fib_flag_trans: the flags /proc/net/route reports.
unsigned proc_flags(const Route& r) {
  unsigned flags = kRtfUp;
  if (r.type == RouteType::kUnreachable || r.type == RouteType::kProhibit) flags |= kRtfReject;
  if (r.gateway) flags |= kRtfGateway;
  if (r.destination.length() == 32) flags |= kRtfHost;
  return flags;
}

bool in_proc_route(const Route& r) {
  return r.type != RouteType::kBroadcast && r.type != RouteType::kMulticast;
}

// The kernel prints __be32 values with %08X: on a little-endian host the bytes come reversed.
std::uint32_t as_be32(std::uint32_t host_order) {
  return ((host_order & 0xffu) << 24) | ((host_order & 0xff00u) << 8) |
         ((host_order >> 8) & 0xff00u) | (host_order >> 24);
}

// C's "%#x": "0" for zero, "0x.." otherwise.
std::string alt_hex(std::uint32_t v) { return v == 0 ? "0" : fmt::format("{:#x}", v); }

}  // namespace

std::string format_route(const Route& r, const IfNames& names, bool show_table) {
  // iproute2 ip/iproute.c print_route: every field is printed as "%s ".
  std::string out;
  auto it = std::back_inserter(out);
  if (r.type != RouteType::kUnicast) fmt::format_to(it, "{} ", to_string(r.type));
  if (r.destination.length() == 0) {
    out += "default ";
  } else {
    fmt::format_to(it, "{} ", prefix_text(r.destination));
  }
  if (r.tos != 0) fmt::format_to(it, "tos {} ", dsfield_name(r.tos));
  if (r.gateway) fmt::format_to(it, "via {} ", *r.gateway);
  if (r.ifindex != 0) fmt::format_to(it, "dev {} ", device_name(names, r.ifindex));
  if (show_table && r.table != kMainTable)
    fmt::format_to(it, "table {} ", route_table_name(r.table));
  if (r.protocol != route_protocol::kBoot) {
    fmt::format_to(it, "proto {} ", route_protocol_name(r.protocol));
  }
  if (r.scope != RouteScope::kUniverse) fmt::format_to(it, "scope {} ", route_scope_name(r.scope));
  if (r.preferred_source) fmt::format_to(it, "src {} ", *r.preferred_source);
  if (r.metric != 0) fmt::format_to(it, "metric {} ", r.metric);
  // Flags (print_rt_flags). RTNH_F_LINKDOWN is set on a nexthop whose device lost carrier,
  // except for scope-host routes, whose nexthop scope is RT_SCOPE_NOWHERE (fib_sync_down_dev).
  if (r.onlink) out += "onlink ";
  if (r.ifindex != 0 && r.scope != RouteScope::kHost && !has_carrier(names, r.ifindex)) {
    out += "linkdown ";
  }
  if (r.mtu != 0) fmt::format_to(it, "mtu {} ", r.mtu);
  out += '\n';
  return out;
}

std::string ip_route_show(const Fib& fib, std::uint32_t table, const IfNames& names) {
  std::string out;
  if (table == kAllTables) {
    for (const RouteTable* t : fib.tables()) {
      for (const Route* r : t->routes()) out += format_route(*r, names, true);
    }
    return out;
  }
  const RouteTable* t = fib.table(table);
  if (t == nullptr) return out;
  for (const Route* r : t->routes()) out += format_route(*r, names, false);
  return out;
}

std::string ip_rule_show(const Fib& fib, const IfNames& names) {
  // iproute2 ip/iprule.c print_rule.
  std::string out;
  auto it = std::back_inserter(out);
  const auto detached = [&](const std::string& name) {
    return names.exists && !names.exists(name) ? " [detached]" : "";
  };
  for (const Rule& rule : fib.rules()) {
    fmt::format_to(it, "{}:\t", rule.priority);
    if (rule.invert) out += "not ";
    if (rule.from) {
      fmt::format_to(it, "from {}", prefix_text(*rule.from));
    } else {
      out += "from all";
    }
    if (rule.to) fmt::format_to(it, " to {}", prefix_text(*rule.to));
    if (rule.tos != 0) fmt::format_to(it, " tos {}", dsfield_name(rule.tos));
    if (rule.fwmark) {
      // The kernel sends FRA_FWMARK when the value is set and FRA_FWMASK when either is; ip
      // leaves the mask out when it is all ones.
      if (rule.fwmark->mask != 0xffffffff) {
        fmt::format_to(it, " fwmark {}/{}", alt_hex(rule.fwmark->value),
                       alt_hex(rule.fwmark->mask));
      } else {
        fmt::format_to(it, " fwmark {}", alt_hex(rule.fwmark->value));
      }
    }
    if (rule.iif) fmt::format_to(it, " iif {}{}", *rule.iif, detached(*rule.iif));
    if (rule.oif) fmt::format_to(it, " oif {}{}", *rule.oif, detached(*rule.oif));
    switch (rule.action) {
      case RuleAction::kLookup:
        fmt::format_to(it, " lookup {}", route_table_name(rule.table));
        if (rule.suppress_prefixlength) {
          fmt::format_to(it, " suppress_prefixlength {}", *rule.suppress_prefixlength);
        }
        break;
      case RuleAction::kGoto: {
        fmt::format_to(it, " goto {}", rule.goto_target);
        bool resolved = false;
        for (const Rule& r : fib.rules()) resolved = resolved || r.priority == rule.goto_target;
        if (!resolved) out += " [unresolved]";
        break;
      }
      case RuleAction::kNop: out += " nop"; break;
      case RuleAction::kBlackhole: out += " blackhole"; break;
      case RuleAction::kUnreachable: out += " unreachable"; break;
      case RuleAction::kProhibit: out += " prohibit"; break;
    }
    out += '\n';
  }
  return out;
}

std::string route_n(const Fib& fib, const IfNames& names) {
  // net-tools lib/inet_gr.c rprint_fib, ext == 1, reading /proc/net/route.
  std::string out =
      "Kernel IP routing table\n"
      "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n";
  auto it = std::back_inserter(out);
  const RouteTable* main = fib.table(kMainTable);
  for (const Route* r : main->routes()) {
    if (!in_proc_route(*r)) continue;
    const unsigned flags = proc_flags(*r);
    // "U", "G", then "!" replaces what is there, then "H".
    const std::string_view base =
        (flags & kRtfReject) != 0 ? "!" : ((flags & kRtfGateway) != 0 ? "UG" : "U");
    const std::string letters = fmt::format("{}{}", base, (flags & kRtfHost) != 0 ? "H" : "");
    const std::string destination = r->destination.network().to_string();
    const std::string mask = wire::Ipv4Address(r->destination.mask()).to_string();
    // The kernel writes the metric with %u and net-tools reads it back with %d.
    const auto metric = static_cast<std::int32_t>(r->metric);
    if ((flags & kRtfReject) != 0) {
      fmt::format_to(it, "{:<15} -               {:<15} {:<5} {:<6} -  {:>7} -\n", destination,
                     mask, letters, metric, 0);
    } else {
      const std::string gateway = r->gateway.value_or(wire::Ipv4Address()).to_string();
      const std::string iface = r->ifindex != 0 ? device_name(names, r->ifindex) : "*";
      fmt::format_to(it, "{:<15} {:<15} {:<15} {:<5} {:<6} {:<2} {:>7} {}\n", destination, gateway,
                     mask, letters, metric, 0, 0, iface);
    }
  }
  return out;
}

std::string proc_net_route(const Fib& fib, const IfNames& names) {
  // net/ipv4/fib_trie.c fib_route_seq_show: every line padded to 127 characters.
  std::string out = fmt::format(
      "{:<127}\n",
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT");
  const RouteTable* main = fib.table(kMainTable);
  for (const Route* r : main->routes()) {
    if (!in_proc_route(*r)) continue;
    const std::string iface = r->ifindex != 0 ? device_name(names, r->ifindex) : "*";
    const std::string line = fmt::format(
        "{}\t{:08X}\t{:08X}\t{:04X}\t0\t0\t{}\t{:08X}\t0\t0\t0", iface,
        as_be32(r->destination.network().value()),
        as_be32(r->gateway.value_or(wire::Ipv4Address()).value()), proc_flags(*r), r->metric,
        as_be32(r->destination.mask()));
    fmt::format_to(std::back_inserter(out), "{:<127}\n", line);
  }
  return out;
}

}  // namespace calisim::dataplane
