#include <calisim/bgp/bird_views.hpp>

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

namespace calisim::bgp {

using wire::Ipv4Prefix;
using wire::bgp::AsPathSegmentType;
using wire::bgp::PathAttributes;

// lib/timer.c tm_format_time / tm_format_real_time / strfusec.
std::string format_bird_time(Time t, Time now, const BirdTimeFormat& format) {
  Duration age = now - t;
  bool recent = format.limit == Duration::zero() || age < format.limit;
  const std::string& fmt_text = recent ? format.recent : format.older;

  std::int64_t us = t.ns() / 1000;  // BIRD's btime is in microseconds
  std::int64_t seconds = us >= 0 ? us / 1'000'000 : (us - 999'999) / 1'000'000;
  auto frac = static_cast<std::uint32_t>(us - seconds * 1'000'000);
  std::int64_t days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
  std::int64_t second_of_day = seconds - days * 86400;
  using namespace std::chrono;
  year_month_day ymd{sys_days{year{kBirdEpochYear} / month{kBirdEpochMonth} / day{kBirdEpochDay}} +
                     std::chrono::days{days}};
  int hh = static_cast<int>(second_of_day / 3600);
  int mm = static_cast<int>(second_of_day / 60 % 60);
  int ss = static_cast<int>(second_of_day % 60);

  std::string out;
  for (std::size_t i = 0; i < fmt_text.size(); ++i) {
    char c = fmt_text[i];
    if (c != '%' || i + 1 == fmt_text.size()) {
      out += c;
      continue;
    }
    char d = fmt_text[++i];
    int digits = 0;
    if (d == 'f') {
      digits = 6;
    } else if (d >= '1' && d <= '6' && i + 1 < fmt_text.size() && fmt_text[i + 1] == 'f') {
      digits = d - '0';
      ++i;
    }
    if (digits > 0) {
      std::uint32_t v = frac;
      for (int k = digits; k < 6; ++k) v /= 10;
      out += fmt::format("{:0{}}", v, digits);
      continue;
    }
    switch (d) {
      case 'Y':
        out += fmt::format("{}", static_cast<int>(ymd.year()));
        break;
      case 'm':
        out += fmt::format("{:02}", static_cast<unsigned>(ymd.month()));
        break;
      case 'd':
        out += fmt::format("{:02}", static_cast<unsigned>(ymd.day()));
        break;
      case 'H':
        out += fmt::format("{:02}", hh);
        break;
      case 'M':
        out += fmt::format("{:02}", mm);
        break;
      case 'S':
        out += fmt::format("{:02}", ss);
        break;
      case 'T':
        out += fmt::format("{:02}:{:02}:{:02}", hh, mm, ss);
        break;
      case 'F':
        out += fmt::format("{}-{:02}-{:02}", static_cast<int>(ymd.year()),
                           static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
        break;
      case '%':
        out += '%';
        break;
      default:
        out += '%';
        out += d;
    }
  }
  return out;
}

namespace {

std::string banner(const BirdViewOptions& options) {
  return options.banner ? fmt::format("BIRD {} ready.\n", options.version) : std::string();
}

// nest/a-path.c as_path_get_last: the last AS of the last sequence; a set last means none.
std::optional<std::uint32_t> origin_as(const PathAttributes& a) {
  if (!a.as_path) return std::nullopt;
  std::optional<std::uint32_t> found;
  for (const auto& s : a.as_path->segments) {
    if (s.as_numbers.empty()) continue;
    if (s.type == AsPathSegmentType::kAsSet || s.type == AsPathSegmentType::kAsConfedSet) {
      found.reset();
    } else {
      found = s.as_numbers.back();
    }
  }
  return found;
}

// bgp_get_route_info: " (pref) [AS<origin AS><i|e|?>]".
std::string bgp_route_info(const RibRoute& r) {
  std::string info = fmt::format(" ({}) [", r.preference);
  if (auto as = origin_as(*r.attributes)) info += fmt::format("AS{}", *as);
  if (r.attributes->origin) info += "ie?"[static_cast<int>(*r.attributes->origin)];
  info += ']';
  return info;
}

// BIRD 1.6's FIB walk order: nest/rt-fib.c fib_get keeps every chain sorted by uid = hash << 16
// (plus a counter for equal hashes), and the buckets are the hash's top bits, so FIB_WALK visits
// the nets in ascending lib/ip.h ip4_hash of the network address (the length is not hashed).
// Nets with equal hashes go in the order they were added; the shorter first here. Checked
// against a calico-node's `birdcl show route`: 0.0.0.0/0, 192.168.106.64/26, 192.168.8.19/32,
// 192.168.70.0/26, 192.168.75.192/26, 192.168.79.0/26, 192.168.8.22/32 (hashes ascending).
std::uint32_t ip4_hash_16(wire::Ipv4Address a) {
  std::uint32_t x = a.value();
  x ^= x >> 16;
  x ^= x << 10;
  return x & 0xffff;
}

std::vector<Ipv4Prefix> prefixes_in_bird16_order(const Rib& rib) {
  std::vector<Ipv4Prefix> prefixes = rib.prefixes();
  std::stable_sort(prefixes.begin(), prefixes.end(), [](const Ipv4Prefix& a, const Ipv4Prefix& b) {
    const std::uint32_t ha = ip4_hash_16(a.network());
    const std::uint32_t hb = ip4_hash_16(b.network());
    return ha != hb ? ha < hb : a.length() < b.length();
  });
  return prefixes;
}

// BIRD 1.6 rt_format_via: the destination on the route's own line.
std::string via_16(const RibRoute& r) {
  switch (r.dest) {
    case RouteDest::kUnicast:
      return r.gateway ? fmt::format("via {} on {}", *r.gateway, r.interface)
                       : fmt::format("dev {}", r.interface);
    case RouteDest::kBlackhole:
      return "blackhole";
    case RouteDest::kUnreachable:
      return "unreachable";
    case RouteDest::kProhibit:
      return "prohibited";
  }
  return "???";
}

// BIRD 1.6 bgp_get_route_info: " (pref[s]/igp) [AS<origin AS><i|e|?>]". Calico's template says
// `gateway recursive`, so every BGP route has a host entry and shows the IGP metric of the route
// its next hop resolved through: 0 through a device route (rt_get_igp_metric of RTS_DEVICE; the
// next hop on a connected network is its own gateway), "?" through a route without a metric
// (the kernel's learned default route), "-" when nothing resolves it (the route is unreachable).
std::string bgp_route_info_16(const RibRoute& r) {
  std::string info = fmt::format(" ({}", r.preference);
  if (r.stale) info += 's';
  if (r.dest == RouteDest::kUnreachable) {
    info += "/-";
  } else if (r.gateway && r.attributes->next_hop && *r.gateway != *r.attributes->next_hop) {
    info += "/?";
  } else {
    info += "/0";
  }
  info += ") [";
  if (auto as = origin_as(*r.attributes)) info += fmt::format("AS{}", *as);
  if (r.attributes->origin) info += "ie?"[static_cast<int>(*r.attributes->origin)];
  info += ']';
  return info;
}

// ea_show of the BGP attributes, in attribute code order.
void bgp_attribute_lines(const PathAttributes& a, std::string& out) {
  static constexpr const char* kOrigin[] = {"IGP", "EGP", "Incomplete"};
  struct Line {
    std::uint8_t code;
    std::string text;
  };
  std::vector<Line> lines;
  if (a.origin)
    lines.push_back({1, fmt::format("origin: {}", kOrigin[static_cast<int>(*a.origin)])});
  if (a.as_path) lines.push_back({2, fmt::format("as_path: {}", a.as_path->to_string())});
  if (a.next_hop) lines.push_back({3, fmt::format("next_hop: {}", *a.next_hop)});
  if (a.multi_exit_disc) lines.push_back({4, fmt::format("med: {}", *a.multi_exit_disc)});
  if (a.local_pref) lines.push_back({5, fmt::format("local_pref: {}", *a.local_pref)});
  if (a.atomic_aggregate) lines.push_back({6, "atomic_aggr: "});
  if (a.aggregator) {
    lines.push_back(
        {7, fmt::format("aggregator: {} AS{}", a.aggregator->address, a.aggregator->as_number)});
  }
  if (!a.communities.empty()) {  // int_set_format, way 1
    std::string text = "community:";
    for (std::uint32_t c : a.communities) text += fmt::format(" ({},{})", c >> 16, c & 0xffff);
    lines.push_back({8, std::move(text)});
  }
  if (a.originator_id) lines.push_back({9, fmt::format("originator_id: {}", *a.originator_id)});
  if (!a.cluster_list.empty()) {  // int_set_format, way 0 (router ids)
    std::string text = "cluster_list:";
    for (const auto& id : a.cluster_list) text += fmt::format(" {}", id);
    lines.push_back({10, std::move(text)});
  }
  for (const auto& raw : a.unknown) {  // "%02x [t]" name, opaque_format value
    std::string text =
        fmt::format("{:02x}{}: ", raw.type, (raw.flags & wire::bgp::kAttrTransitive) ? " [t]" : "");
    for (std::size_t i = 0; i < raw.value.size(); ++i)
      text += fmt::format("{}{:02x}", i ? " " : "", raw.value[i]);
    lines.push_back({raw.type, std::move(text)});
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const Line& x, const Line& y) { return x.code < y.code; });
  for (const Line& l : lines) out += fmt::format("\tBGP.{}\n", l.text);
}

}  // namespace

std::string show_protocols(std::span<const BirdProtocolRow> rows, const BirdViewOptions& options) {
  std::string out = banner(options);
  if (options.layout == BirdLayout::kBird16) {
    // BIRD 1.6 proto_cmd_show; every protocol is connected to the one table, "master".
    out += "name     proto    table    state  since       info\n";
    for (const BirdProtocolRow& r : rows) {
      out += fmt::format("{:<8} {:<8} {:<8} {:<5}  {:<10}  {}\n", r.name, r.proto,
                         r.table == "---" || r.table == "master4" ? "master" : r.table, r.state,
                         format_bird_time(r.since, options.now, options.protocol_time), r.info);
    }
    return out;
  }
  out += fmt::format("{:<10} {:<10} {:<10} {:<6} {:<12}  {}\n", "Name", "Proto", "Table", "State",
                     "Since", "Info");
  for (const BirdProtocolRow& r : rows) {
    out += fmt::format("{:<10} {:<10} {:<10} {:<6} {:<12}  {}\n", r.name, r.proto, r.table, r.state,
                       format_bird_time(r.since, options.now, options.protocol_time), r.info);
  }
  return out;
}

std::string bird_route_lines(const RibRoute& r, const BirdViewOptions& options, bool all,
                             bool first, bool sync_error) {
  std::string from;
  if (r.from && (!r.gateway || *r.gateway != *r.from)) from = fmt::format(" from {}", *r.from);
  if (options.layout == BirdLayout::kBird16) {
    std::string info = r.attributes ? bgp_route_info_16(r) : fmt::format(" ({})", r.preference);
    std::string out = fmt::format(
        "{:<18} {} [{} {}{}]{}{}\n", first ? r.prefix.to_string() : std::string(), via_16(r),
        r.protocol, format_bird_time(r.since, options.now, options.route_time), from,
        r.best ? (sync_error ? " !" : " *") : "", info);
    if (all) {  // rta_show "\tType: %s %s %s" (source, cast, scope), then ea_show per attribute
      out += fmt::format("\tType: {} unicast univ\n", to_string(r.kind));
      if (r.attributes) bgp_attribute_lines(*r.attributes, out);
      if (r.kernel) {  // sysdep/unix/krt.c krt_learn_scan: EA_KRT_SOURCE, EA_KRT_METRIC
        out += fmt::format("\tKernel.source: {}\n", r.kernel->source_protocol);
        out += fmt::format("\tKernel.metric: {}\n", r.kernel->metric);
      }
    }
    return out;
  }
  std::string info = r.attributes ? bgp_route_info(r) : fmt::format(" ({})", r.preference);
  std::string mark = r.best ? (sync_error ? " !" : " *") : "";
  std::string out = fmt::format(
      "{:<20} {} [{} {}{}]{}{}\n", first ? r.prefix.to_string() : std::string(), to_string(r.dest),
      r.protocol, format_bird_time(r.since, options.now, options.route_time), from, mark, info);
  if (r.dest == RouteDest::kUnicast) {
    if (r.gateway) {
      out += fmt::format("\tvia {} on {}{}\n", *r.gateway, r.interface, r.onlink ? " onlink" : "");
    } else {
      out += fmt::format("\tdev {}{}\n", r.interface, r.onlink ? " onlink" : "");
    }
  }
  if (!all) return out;
  out += fmt::format("\tType: {} univ\n", to_string(r.kind));
  if (r.attributes) bgp_attribute_lines(*r.attributes, out);
  if (r.kernel) {
    out += fmt::format("\tKernel.source: {}\n", r.kernel->source_protocol);
    out += fmt::format("\tKernel.metric: {}\n", r.kernel->metric);
    if (r.kernel->scope) out += fmt::format("\tKernel.scope: {}\n", *r.kernel->scope);
  }
  return out;
}

std::string show_route(const Rib& rib, const BirdViewOptions& options,
                       const ShowRouteOptions& show) {
  std::string out = banner(options);
  std::vector<Ipv4Prefix> prefixes;
  if (show.prefix || show.for_address) {
    // rt_show: net_find (exact) or net_route (longest match), else "Network not found".
    std::optional<Ipv4Prefix> found;
    if (show.prefix) {
      Ipv4Prefix p(show.prefix->network(), show.prefix->length());
      if (rib.best(p)) found = p;
    } else {
      for (int len = 32; len >= 0 && !found; --len) {
        Ipv4Prefix p(*show.for_address, static_cast<std::uint8_t>(len));
        p = Ipv4Prefix(p.network(), p.length());
        if (rib.best(p)) found = p;
      }
    }
    // BIRD 1.6 rt_show: "Network not in table"; BIRD 2: "Network not found".
    if (!found)
      return out + (options.layout == BirdLayout::kBird16 ? "Network not in table\n"
                                                          : "Network not found\n");
    prefixes.push_back(*found);
  } else if (options.layout == BirdLayout::kBird16) {
    prefixes = prefixes_in_bird16_order(rib);
  } else {
    prefixes = rib.prefixes_in_bird_order();
  }
  bool header = false;
  for (const Ipv4Prefix& prefix : prefixes) {
    std::vector<RibRoute> routes = rib.routes(prefix);
    bool first = true;
    for (const RibRoute& r : routes) {
      // rt_show_net: in export mode only the best route is considered (RA_OPTIMAL).
      if (show.export_to) {
        if (!r.best || !rib.export_preview(*show.export_to, prefix)) break;
      }
      if (show.protocol && r.source != *show.protocol) {
        if (show.primary_only) break;
        continue;
      }
      if (!header && options.layout == BirdLayout::kBird2) {
        out += fmt::format("Table {}:\n", show.table);
        header = true;
      }
      bool error = show.kernel && r.best && show.kernel->sync_error(prefix);
      out += bird_route_lines(r, options, show.all, first, error);
      first = false;
      if (show.primary_only) break;
    }
  }
  return out;
}

}  // namespace calisim::bgp
