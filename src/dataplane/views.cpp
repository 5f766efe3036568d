#include <calisim/dataplane/views.hpp>

#include <fmt/format.h>

namespace calisim::dataplane::views {

IfNames if_names(const Namespace& ns) {
  IfNames names;
  names.name = [&ns](std::uint32_t ifindex) {
    const Device* d = ns.device(ifindex);
    return d != nullptr ? d->name() : std::string();
  };
  names.carrier = [&ns](std::uint32_t ifindex) {
    const Device* d = ns.device(ifindex);
    return d == nullptr || d->carrier();
  };
  names.exists = [&ns](std::string_view name) { return ns.device(name) != nullptr; };
  return names;
}

// ip/ipaddress.c print_linkinfo_brief: "%-16s " name (with @link), "%-14s " operstate, then
// the address and the flags, each followed by one space.
std::string ip_br_link(const Namespace& ns) {
  std::string out;
  for (const auto& d : ns.devices()) {
    out += fmt::format("{:<16} {:<14} {} <{}> \n", d->name() + d->link_suffix(),
                       to_string(d->oper_state()), d->link_address(), d->link_flags());
  }
  return out;
}

// print_addrinfo brief: the same name and state columns, then every address as "A/L ",
// primaries before secondaries. Linux would go on with the IPv6 ones (lo's ::1/128, a link's
// fe80::/64); calisim is IPv4 only, so they are not there.
std::string ip_br_addr(const Namespace& ns) {
  std::string out;
  for (const auto& d : ns.devices()) {
    std::string line = fmt::format("{:<16} {:<14} ", d->name() + d->link_suffix(),
                                   to_string(d->oper_state()));
    for (bool secondary : {false, true}) {
      for (const auto& a : ns.addresses()) {
        if (a.ifindex == d->ifindex() && a.secondary == secondary) {
          line += a.prefix.to_string() + " ";
        }
      }
    }
    out += line + "\n";
  }
  return out;
}

std::string ip_route(const Namespace& ns, std::uint32_t table) {
  return ip_route_show(ns.fib(), table, if_names(ns));
}

std::string ip_rule(const Namespace& ns) { return ip_rule_show(ns.fib(), if_names(ns)); }

std::string ip_neigh(const Namespace& ns) {
  return ip_neigh_show(ns.neighbours(), if_names(ns).name);
}

std::string route_n(const Namespace& ns) { return dataplane::route_n(ns.fib(), if_names(ns)); }

}  // namespace calisim::dataplane::views
