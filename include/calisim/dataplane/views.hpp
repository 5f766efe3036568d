#pragma once
// A namespace as the tools people know print it: `ip -br link`, `ip -br addr`, `ip route`,
// `ip rule`, `ip neigh`, `route -n` — field for field as iproute2 6.1 and net-tools 2.10 do
// (linux.md §1).

#include <cstdint>
#include <string>

#include <calisim/dataplane/namespace.hpp>
#include <calisim/dataplane/route_views.hpp>

namespace calisim::dataplane::views {

IfNames if_names(const Namespace& ns);

std::string ip_br_link(const Namespace& ns);
std::string ip_br_addr(const Namespace& ns);
std::string ip_route(const Namespace& ns, std::uint32_t table = kMainTable);
std::string ip_rule(const Namespace& ns);
std::string ip_neigh(const Namespace& ns);
std::string route_n(const Namespace& ns);
// `ip route get ADDR` (route_get.cpp), or the "RTNETLINK answers: ..." line for an error.
std::string ip_route_get(const Namespace& ns, wire::Ipv4Address destination);

}  // namespace calisim::dataplane::views
