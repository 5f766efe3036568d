#pragma once
// The IPv4 FIB of one network namespace: its routing tables, its policy rules (`ip rule`) and
// the lookup the kernel does with them (net/ipv4/fib_frontend.c, fib_rules.c, fib4_rules.c,
// include/net/ip_fib.h fib_lookup). Plain data: the Namespace that owns a Fib turns device
// events into the calls below and packets into FlowKeys.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <calisim/dataplane/route.hpp>
#include <calisim/sim/result.hpp>
#include <calisim/wire/address.hpp>

namespace calisim::dataplane {

// A rule's mark selector: matches when (packet mark ^ value) & mask == 0. `fwmark V` alone
// means mask 0xffffffff when V != 0 and mask 0 (match all) when V == 0 (fib_nl2rule).
struct FwMark {
  std::uint32_t value = 0;
  std::uint32_t mask = 0xffffffff;
  static constexpr FwMark exact(std::uint32_t v) { return FwMark{v, v != 0 ? 0xffffffffu : 0u}; }
  bool operator==(const FwMark&) const = default;
};

enum class RuleAction : std::uint8_t {
  kLookup,       // lookup table N (FR_ACT_TO_TBL)
  kGoto,         // jump to the first rule with priority goto_target (FR_ACT_GOTO)
  kNop,          // FR_ACT_NOP
  kBlackhole,    // the lookup fails with EINVAL
  kUnreachable,  // the lookup fails with ENETUNREACH (not EHOSTUNREACH as the route type does)
  kProhibit,     // the lookup fails with EACCES
};

struct Rule {
  std::uint32_t priority = 0;
  bool invert = false;                   // `not`: the selectors' result is inverted
  std::optional<wire::Ipv4Prefix> from{};  // kept as given (`from 10.1.1.7/24` stays so)
  std::optional<wire::Ipv4Prefix> to{};
  std::optional<FwMark> fwmark{};
  std::optional<std::string> iif{};  // `iif lo` matches locally generated packets
  std::optional<std::string> oif{};  // the output device a socket is bound to
  std::uint8_t tos = 0;            // 0 = any; else must equal the packet's tos & 0x1c
  RuleAction action = RuleAction::kLookup;
  std::uint32_t table = kMainTable;  // kLookup only
  std::uint32_t goto_target = 0;     // kGoto only
  std::optional<std::uint8_t> suppress_prefixlength{};  // refuse results with prefix <= N

  bool operator==(const Rule&) const = default;
};

// What `ip rule del` matches (rule_find): every given field; the first rule matching goes.
struct RuleSelector {
  std::optional<std::uint32_t> priority{};
  std::optional<wire::Ipv4Prefix> from{};
  std::optional<wire::Ipv4Prefix> to{};
  std::optional<FwMark> fwmark{};
  std::optional<std::string> iif{};
  std::optional<std::string> oif{};
  std::uint8_t tos = 0;  // 0 = any
  std::optional<RuleAction> action{};
  std::uint32_t table = kUnspecTable;  // 0 = any
  std::optional<std::uint8_t> suppress_prefixlength{};
};

// What a lookup knows about a packet (struct flowi4).
struct FlowKey {
  wire::Ipv4Address destination{};
  wire::Ipv4Address source{};  // 0.0.0.0 when not chosen yet: only `from all` rules match then
  std::uint32_t mark = 0;
  // Input device; "" = generated here. Locally generated flows carry LOOPBACK_IFINDEX as their
  // input interface (ip_route_output_key_hash), so `iif lo` rules match them: "" compares
  // equal to "lo".
  std::string_view iif{};
  // Output device the socket is bound to (SO_BINDTODEVICE, `ping -I`); "" = none, always the
  // case for forwarded packets. `oif X` rules match only when it names X.
  std::string_view oif{};
  std::uint8_t tos = 0;
  // oif's ifindex. When set, routes through other devices are skipped
  // (fib_lookup_good_nhc); reject routes still match.
  std::uint32_t oif_ifindex = 0;
  // Routes with a narrower scope are skipped (flowi4_scope): kLink finds connected routes only,
  // the way the kernel checks a gateway.
  RouteScope scope = RouteScope::kUniverse;
};

struct FibLookup {
  // The errno the kernel's lookup returns, and what `ip route get` / connect() print.
  enum class Kind : std::uint8_t {
    kRoute,        // success: `route` says where (unicast, local, broadcast, ...)
    kNoRoute,      // ENETUNREACH "Network is unreachable": no match, throw, `unreachable` rule
    kBlackhole,    // EINVAL "Invalid argument": blackhole route or rule; dropped silently
    kUnreachable,  // EHOSTUNREACH "No route to host": unreachable route
    kProhibit,     // EACCES "Permission denied": prohibit route or rule
  };
  Kind kind = Kind::kNoRoute;
  const Route* route = nullptr;  // the route that decided; null when a rule did or none matched
  std::uint32_t table = kUnspecTable;  // the table searched (res->table): main for a local route
                                       // found while local and main are merged
  const Rule* rule = nullptr;  // the rule that decided; null on the no-rules fast path

  bool ok() const { return kind == Kind::kRoute; }
};

// The text strerror() gives for the errno behind each kind ("" for kRoute).
std::string_view error_text(FibLookup::Kind kind);

// The address side of `ip addr add` that the FIB sees (struct in_ifaddr).
struct AddressRouteOptions {
  bool device_up = true;  // prefix and broadcast routes exist only while the device is up
  // For a secondary address (a second one in a subnet the device already has): the primary's
  // address. Its local route then uses the primary as src, and it adds no other route.
  std::optional<wire::Ipv4Address> primary{};
  std::optional<wire::Ipv4Address> broadcast{};  // `brd X`: an extra broadcast route
  bool noprefixroute = false;
  std::uint32_t metric = 0;  // `ip addr add ... metric N`: the prefix route's metric
};

class Fib {
 public:
  // Tables local, main and default and the rules 0/32766/32767, as a new namespace has.
  Fib();

  // ---- routes --------------------------------------------------------------------------------
  // `ip route add/replace/...`: RouteTable::add plus the checks that need the whole FIB, as
  // fib_create_info makes them: a gateway must be reachable over a connected (scope link)
  // route, or merely not local/broadcast with `onlink`; a missing ifindex is taken from the
  // route to the gateway; `src` must be a local address. Creates route.table if needed.
  // Device state (up, carrier) is the caller's to check. Error messages are what `ip` prints.
  // One simplification: the gateway lookup has no device name, so `oif` rules cannot match it
  // (the kernel sets the nexthop's ifindex as the flow's oif).
  [[nodiscard]] Result<void> add_route(Route route, RouteAddMode mode = RouteAddMode::kAdd);
  // `ip route del`.
  [[nodiscard]] Result<Route> remove_route(const RouteSelector& selector);

  // null when the table does not exist.
  const RouteTable* table(std::uint32_t id) const;
  // The existing tables in the order `ip route show table all` dumps them (by id % 256, newest
  // first among ids with the same remainder: the kernel's fib_table_hash).
  std::vector<const RouteTable*> tables() const;

  // ---- addresses and devices -----------------------------------------------------------------
  // fib_add_ifaddr: `local A dev D proto kernel scope host src A` (table local); while the
  // device is up, for prefixlen < 32 `<net>/<len> dev D proto kernel scope link src A` (table
  // main; on loopback a `local` route in table local) and for prefixlen < 31
  // `broadcast <last address> ...` (table local). Adding what already exists changes nothing,
  // so call it again for every address when a device comes up.
  void add_address_routes(std::uint32_t ifindex, wire::Ipv4Prefix address,
                          const AddressRouteOptions& options = {});
  // fib_del_ifaddr: removes those routes again and, once the address is no longer local,
  // every table-main route using it as src (fib_sync_down_addr). Call clear_device() too when
  // the device's last IPv4 address went (fib_disable_ip).
  void remove_address_routes(std::uint32_t ifindex, wire::Ipv4Prefix address,
                             const AddressRouteOptions& options = {});
  // NETDEV_DOWN: every route through the device goes, except scope host ones (its local
  // routes stay, as `ip route show table local` shows after `ip link set down`).
  std::size_t device_down(std::uint32_t ifindex);
  // NETDEV_UNREGISTER, or the device's last IPv4 address removed: every route through it goes.
  std::size_t clear_device(std::uint32_t ifindex);

  // ---- rules ---------------------------------------------------------------------------------
  const std::vector<Rule>& rules() const { return rules_; }
  // `ip rule add`: kExists when an equal rule exists (the kernel's rule_exists ignores `not`
  // and the goto target); a rule goes behind others of the same priority.
  [[nodiscard]] Result<void> add_rule(Rule rule);
  // The priority `ip rule add` without `pref` gets (fib_default_rule_pref): the second rule's
  // priority - 1, or 0.
  std::uint32_t default_rule_priority() const;
  // `ip rule del`: kNotFound when no rule matches.
  [[nodiscard]] Result<Rule> remove_rule(const RuleSelector& selector);
  // Until the first rule change the kernel keeps local and main in one trie and skips the rules
  // (fib_lookup fast path); the first `ip rule add/del` splits them for good (fib_unmerge).
  // Visible difference: merged, a longer main prefix beats a shorter local one (main's
  // 127.0.0.5/32 wins over local's 127.0.0.0/8); split, table local always comes first.
  bool has_custom_rules() const { return custom_rules_; }

  // ---- lookups -------------------------------------------------------------------------------
  // The routing decision for a flow: rules in priority order, a miss or a throw route in a
  // table goes on with the next rule. Allocation-free. Pointers in the result are valid until
  // the Fib next changes.
  FibLookup lookup(const FlowKey& flow) const;
  // fib_table_lookup on one table, no rules (local and main are one while merged). A throw
  // route comes back as kNoRoute with `route` set; a missing table as kNoRoute.
  FibLookup lookup_table(std::uint32_t table, const FlowKey& flow) const;
  // inet_addr_type: kLocal for this namespace's own addresses, kBroadcast for 0.0.0.0/8,
  // 255.255.255.255 and broadcast routes, kMulticast for 224/4, else kUnicast.
  RouteType address_type(wire::Ipv4Address address) const;

 private:
  struct TableSlot {
    RouteTable table;
    std::uint64_t created;  // creation order, for tables()
  };
  RouteTable& ensure_table(std::uint32_t id);
  RouteTable* find_table(std::uint32_t id);
  const RouteTable* find_table(std::uint32_t id) const;
  FibLookup finish(const Route* route, std::uint32_t table) const;
  std::optional<FibLookup> apply_rule(const Rule& rule, const FlowKey& flow) const;
  Result<std::uint32_t> check_nexthop(const Route& route) const;
  bool valid_prefsrc(const Route& route) const;
  void add_kernel_route(const Route& route);
  void remove_kernel_route(const Route& route);
  std::size_t remove_everywhere(std::uint32_t ifindex, bool keep_host_scope);

  std::map<std::uint32_t, TableSlot> tables_;
  // Tables 0..255 (all but exotic ids) also by index: a lookup finds its table without a
  // map walk. Map nodes do not move, so the pointers stay valid.
  std::array<RouteTable*, 256> small_tables_{};
  std::uint64_t next_created_ = 0;
  std::vector<Rule> rules_;
  bool custom_rules_ = false;
};

}  // namespace calisim::dataplane
