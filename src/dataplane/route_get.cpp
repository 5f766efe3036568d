// `ip route get ADDR` (iproute2 ip/iproute.c iproute_get + print_route, kernel net/ipv4/route.c
// inet_rtm_getroute -> rt_fill_info): the output route as a socket would get it, with the
// source it would use and, on a second line, the route-cache part: a PMTU exception shows as
// `expires Nsec` and `mtu N` (linux.md §1.1).

#include <fmt/format.h>

#include <calisim/dataplane/ip_ident.hpp>
#include <calisim/dataplane/views.hpp>

namespace calisim::dataplane::views {

std::string ip_route_get(const Namespace& ns, wire::Ipv4Address destination) {
  const FibLookup r = ns.route_output(destination);
  // The kernel answers with an errno, which ip prints on stderr.
  if (!r.ok()) return fmt::format("RTNETLINK answers: {}\n", error_text(r.kind));
  const Route& route = *r.route;
  const IfNames names = if_names(ns);
  std::string out;
  // print_route: the type when it is not unicast, the address, `via`, `dev`, `src`, `uid`.
  if (route.type != RouteType::kUnicast) out += fmt::format("{} ", to_string(route.type));
  out += destination.to_string() + " ";
  if (route.gateway && route.type == RouteType::kUnicast) {
    out += fmt::format("via {} ", route.gateway->to_string());
  }
  // A local destination leaves through lo (ip_route_output_key_hash_rcu: dev_out = loopback).
  const std::uint32_t ifindex =
      route.type == RouteType::kLocal ? ns.loopback().ifindex() : route.ifindex;
  const std::string dev = names.name(ifindex);
  out += fmt::format("dev {} ", dev.empty() ? fmt::format("if{}", ifindex) : dev);
  if (r.table != kMainTable && r.table != kLocalTable && r.table != kUnspecTable) {
    out += fmt::format("table {} ", route_table_name(r.table));
  }
  if (auto src = ns.source_for(destination)) out += fmt::format("src {} ", src->to_string());
  out += "uid 0 \n";
  // print_cache_flags: RTM_F_CLONED answers always get the cache line; RTCF_LOCAL shows.
  out += "    cache ";
  if (route.type == RouteType::kLocal) out += "<local> ";
  if (const PmtuException* e = ns.pmtu_exception(destination)) {
    // rt_fill_info: expires in jiffies, rtnl_put_cacheinfo in USER_HZ clock ticks, iproute2
    // divides by hz and prints whole seconds (truncated).
    const Time now = ns.sim().now();
    const std::int64_t jiffies =
        e->expires.ns() / IpIdentGenerator::kJiffyNs - now.ns() / IpIdentGenerator::kJiffyNs;
    const std::int64_t ticks = jiffies * IpIdentGenerator::kJiffyNs / 10'000'000;
    out += fmt::format("expires {}sec ", ticks / 100);
    // The metrics: RTAX_MTU from rt_pmtu, RTAX_LOCK when it is locked (print_rta_metrics).
    out += e->locked ? fmt::format("mtu lock {} ", e->mtu) : fmt::format("mtu {} ", e->mtu);
  }
  out += "\n";
  return out;
}

}  // namespace calisim::dataplane::views
