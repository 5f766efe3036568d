#include <calisim/bgp/bird_views.hpp>

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
      case 'Y': out += fmt::format("{}", static_cast<int>(ymd.year())); break;
      case 'm': out += fmt::format("{:02}", static_cast<unsigned>(ymd.month())); break;
      case 'd': out += fmt::format("{:02}", static_cast<unsigned>(ymd.day())); break;
      case 'H': out += fmt::format("{:02}", hh); break;
      case 'M': out += fmt::format("{:02}", mm); break;
      case 'S': out += fmt::format("{:02}", ss); break;
      case 'T': out += fmt::format("{:02}:{:02}:{:02}", hh, mm, ss); break;
      case 'F':
        out += fmt::format("{}-{:02}-{:02}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                           static_cast<unsigned>(ymd.day()));
        break;
      case '%': out += '%'; break;
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

// ea_show of the BGP attributes, in attribute code order.
void bgp_attribute_lines(const PathAttributes& a, std::string& out) {
  static constexpr const char* kOrigin[] = {"IGP", "EGP", "Incomplete"};
  struct Line {
    std::uint8_t code;
    std::string text;
  };
  std::vector<Line> lines;
  if (a.origin) lines.push_back({1, fmt::format("origin: {}", kOrigin[static_cast<int>(*a.origin)])});
  if (a.as_path) lines.push_back({2, fmt::format("as_path: {}", a.as_path->to_string())});
  if (a.next_hop) lines.push_back({3, fmt::format("next_hop: {}", *a.next_hop)});
  if (a.multi_exit_disc) lines.push_back({4, fmt::format("med: {}", *a.multi_exit_disc)});
  if (a.local_pref) lines.push_back({5, fmt::format("local_pref: {}", *a.local_pref)});
  if (a.atomic_aggregate) lines.push_back({6, "atomic_aggr: "});
  if (a.aggregator) {
    lines.push_back({7, fmt::format("aggregator: {} AS{}", a.aggregator->address, a.aggregator->as_number)});
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
    std::string text = fmt::format("{:02x}{}: ", raw.type, (raw.flags & wire::bgp::kAttrTransitive) ? " [t]" : "");
    for (std::size_t i = 0; i < raw.value.size(); ++i) text += fmt::format("{}{:02x}", i ? " " : "", raw.value[i]);
    lines.push_back({raw.type, std::move(text)});
  }
  std::stable_sort(lines.begin(), lines.end(), [](const Line& x, const Line& y) { return x.code < y.code; });
  for (const Line& l : lines) out += fmt::format("\tBGP.{}\n", l.text);
}

}  // namespace

std::string show_protocols(std::span<const BirdProtocolRow> rows, const BirdViewOptions& options) {
  std::string out = banner(options);
  out += fmt::format("{:<10} {:<10} {:<10} {:<6} {:<12}  {}\n", "Name", "Proto", "Table", "State", "Since", "Info");
  for (const BirdProtocolRow& r : rows) {
    out += fmt::format("{:<10} {:<10} {:<10} {:<6} {:<12}  {}\n", r.name, r.proto, r.table, r.state,
                       format_bird_time(r.since, options.now, options.protocol_time), r.info);
  }
  return out;
}

std::string bird_route_lines(const RibRoute& r, const BirdViewOptions& options, bool all, bool first,
                             bool sync_error) {
  std::string from;
  if (r.from && (!r.gateway || *r.gateway != *r.from)) from = fmt::format(" from {}", *r.from);
  std::string info = r.attributes ? bgp_route_info(r) : fmt::format(" ({})", r.preference);
  std::string mark = r.best ? (sync_error ? " !" : " *") : "";
  std::string out = fmt::format("{:<20} {} [{} {}{}]{}{}\n", first ? r.prefix.to_string() : std::string(),
                                to_string(r.dest), r.protocol,
                                format_bird_time(r.since, options.now, options.route_time), from, mark, info);
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

std::string show_route(const Rib& rib, const BirdViewOptions& options, const ShowRouteOptions& show) {
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
    if (!found) return out + "Network not found\n";
    prefixes.push_back(*found);
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
      if (!header) {
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
