#pragma once
// Text views of a Fib exactly as the real tools print them: `ip route show` and `ip rule show`
// (iproute2 6.1), `route -n` (net-tools 2.10) and /proc/net/route (kernel 6.x). Not hot.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <calisim/dataplane/fib.hpp>
#include <calisim/dataplane/route.hpp>

namespace calisim::dataplane {

// What the views need to know about devices; the Namespace fills it from its device list.
struct IfNames {
  // ifindex -> name. Unset, or "" for an unknown index, prints "if<N>" as iproute2 does.
  std::function<std::string(std::uint32_t ifindex)> name{};
  // Carrier state; a route through a device without carrier prints `linkdown`. Unset = up.
  std::function<bool(std::uint32_t ifindex)> carrier{};
  // Whether a device of this name exists; `ip rule` marks iif/oif without one `[detached]`.
  // Unset = every name exists.
  std::function<bool(std::string_view name)> exists{};
};

// `ip route show table all`.
inline constexpr std::uint32_t kAllTables = 0;

// One `ip route` line, with its trailing space and newline. `table X` is printed for tables
// other than main when show_table is set (`ip route show table all` sets it, `table N` not).
std::string format_route(const Route& route, const IfNames& names, bool show_table);

// `ip route show [table N|all]` (table main by default): every route of the table in the
// kernel's dump order. A table that does not exist prints nothing, as `ip` does.
std::string ip_route_show(const Fib& fib, std::uint32_t table, const IfNames& names);

// `ip rule show`: "<prio>:\t<selectors> <action>" per rule, no trailing space.
std::string ip_rule_show(const Fib& fib, const IfNames& names = {});

// `route -n`: the header lines and one row per table-main route except broadcast and
// multicast ones; unreachable and prohibit rows are net-tools' reject rows.
std::string route_n(const Fib& fib, const IfNames& names);

// /proc/net/route as a little-endian kernel writes it (each line padded to 127 characters).
std::string proc_net_route(const Fib& fib, const IfNames& names);

}  // namespace calisim::dataplane
