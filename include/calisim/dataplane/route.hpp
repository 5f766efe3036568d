#pragma once
// IPv4 routes and one routing table with the kernel's semantics (net/ipv4/fib_trie.c):
// what `ip route add/replace/append/prepend/del` accept, the longest-prefix lookup, and the
// order `ip route show` dumps in. Plain data: devices are ifindexes, nothing here knows a
// packet or a device. The Fib (fib.hpp) owns the tables of one namespace.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <calisim/sim/result.hpp>
#include <calisim/wire/address.hpp>

namespace calisim::dataplane {

// rtm_type (include/uapi/linux/rtnetlink.h RTN_*). kMulticast exists so that `ip route add
// multicast` round-trips; calisim routes no multicast.
enum class RouteType : std::uint8_t {
  kUnicast,
  kLocal,        // delivered here (table local: own addresses, loopback's 127/8)
  kBroadcast,    // delivered here as broadcast
  kBlackhole,    // dropped silently; a lookup fails with EINVAL
  kUnreachable,  // ICMP host unreachable; a lookup fails with EHOSTUNREACH
  kProhibit,     // ICMP "packet filtered" (3/13); a lookup fails with EACCES
  kThrow,        // the lookup in this table fails and policy routing goes on with the next rule
  kMulticast,
};

// rtm_scope. Other numbers are legal (the enum holds any uint8_t); iproute2 prints them as
// numbers.
enum class RouteScope : std::uint8_t {
  kUniverse = 0,  // printed as nothing (`scope global` only with -d)
  kSite = 200,
  kLink = 253,
  kHost = 254,
  kNowhere = 255,
};

// rtm_protocol: who installed the route. Any number is legal (Felix's VXLAN routes use 80).
namespace route_protocol {
inline constexpr std::uint8_t kUnspec = 0;
inline constexpr std::uint8_t kRedirect = 1;
// Connected routes the kernel makes from addresses (fib_magic).
inline constexpr std::uint8_t kKernel = 2;
// `ip route add`'s default, also Felix's cali routes; `ip route` does not print it.
inline constexpr std::uint8_t kBoot = 3;
inline constexpr std::uint8_t kStatic = 4;
// Calico's BIRD: IPIP and no-encap block routes.
inline constexpr std::uint8_t kBird = 12;
// A DHCP client's routes (the VirtualBox NAT's default route: `proto dhcp metric 100`).
inline constexpr std::uint8_t kDhcp = 16;
// Felix's VXLAN routes and blackholes (vxlan_mgr.go defaultVXLANProto).
inline constexpr std::uint8_t kFelix = 80;
}  // namespace route_protocol

// Table ids (RT_TABLE_*).
inline constexpr std::uint32_t kUnspecTable = 0;
inline constexpr std::uint32_t kDefaultTable = 253;
inline constexpr std::uint32_t kMainTable = 254;
inline constexpr std::uint32_t kLocalTable = 255;

// The loopback device is ifindex 1 in every namespace (LOOPBACK_IFINDEX): its address gives a
// `local` prefix route (127.0.0.0/8) rather than a unicast one.
inline constexpr std::uint32_t kLoopbackIfindex = 1;

// iproute2's names (lib/rt_names.c with Debian 12's /etc/iproute2 files); a number otherwise.
std::string route_protocol_name(std::uint8_t protocol);  // "kernel", "bird", "80"
std::string route_table_name(std::uint32_t table);       // "local", "main", "default", "100"
std::string route_scope_name(RouteScope scope);          // "global", "link", "host", "7"
std::string_view to_string(RouteType type);              // "unicast", "blackhole", ...
std::string dsfield_name(std::uint8_t tos);              // "0x10", "CS1", "AF11"

// What `ip route add` (iproute2 iproute_modify) fills in when the command leaves it out.
RouteScope default_scope(RouteType type, bool has_gateway);  // local: host; brd / no gw: link
std::uint32_t default_table(RouteType type);                 // local, broadcast: table local

// True for the types whose lookup ends in an error (fib_props[type].error != 0).
constexpr bool is_reject(RouteType type) {
  return type == RouteType::kBlackhole || type == RouteType::kUnreachable ||
         type == RouteType::kProhibit || type == RouteType::kThrow;
}

struct Route {
  wire::Ipv4Prefix destination{};  // host bits zero: adding 10.0.0.5/24 fails, as in Linux
  RouteType type = RouteType::kUnicast;
  std::optional<wire::Ipv4Address> gateway{};
  std::uint32_t ifindex = 0;  // 0 = no device (reject types)
  RouteScope scope = RouteScope::kUniverse;
  std::uint8_t protocol = route_protocol::kBoot;
  std::uint32_t metric = 0;  // "priority" in the kernel; lower wins among equal prefixes
  std::optional<wire::Ipv4Address> preferred_source{};  // `src`
  bool onlink = false;  // RTNH_F_ONLINK: the gateway is on the link, no connected route needed
  std::uint8_t tos = 0;
  std::uint32_t mtu = 0;  // RTAX_MTU; 0 = unset
  std::uint32_t table = kMainTable;

  bool operator==(const Route&) const = default;
};

// How an add treats a route with the same key (destination, tos, metric) in the same table:
// the netlink flags behind each `ip route` verb.
enum class RouteAddMode : std::uint8_t {
  kAdd,      // `ip route add` (CREATE|EXCL): same key -> kExists ("File exists")
  kReplace,  // `ip route replace` (CREATE|REPLACE): overwrites the first route with the key
  kChange,   // `ip route change` (REPLACE): like replace, but kNotFound when there is none
  kPrepend,  // `ip route prepend` (CREATE): another route with the key, in front
  kAppend,   // `ip route append` (CREATE|APPEND): another route with the key, behind
};

// What `ip route del` matches (fib_table_delete): destination and tos exactly, the rest only
// when given. The first route in dump order that matches goes.
struct RouteSelector {
  wire::Ipv4Prefix destination{};
  std::uint32_t table = kMainTable;
  std::uint8_t tos = 0;
  std::uint32_t metric = 0;  // 0 = any metric (fib_nh_match ignores a zero priority)
  std::optional<RouteType> type{};
  std::optional<RouteScope> scope{};
  std::optional<std::uint8_t> protocol{};
  std::optional<wire::Ipv4Address> gateway{};
  std::uint32_t ifindex = 0;  // 0 = any device
  std::optional<wire::Ipv4Address> preferred_source{};
};

// One routing table.
//
// Storage: the routes of one destination prefix form a "leaf" (the kernel's fib_alias list),
// kept in the kernel's order: higher TOS first, then lower metric, then insertion order as the
// add mode says. Leaves live in an ordered map keyed (network ascending, prefix length
// descending), which is exactly the dump order of the kernel's trie walk.
//
// Lookup: one open-addressing hash index per prefix length (network -> leaf), and a bitmask of
// the lengths that hold any route. A lookup walks the set bits from /32 down, masks the
// destination, probes that length's index and checks the leaf's routes; the first route that
// fits wins. That is at most one probe per length present (a Calico node has about six) and no
// allocation. The kernel's LC-trie gives the same answers: the longest prefix first, and a
// shorter one only when no route of the longer one fits (TOS, scope, device).
class RouteTable {
 public:
  explicit RouteTable(std::uint32_t id) : id_(id) {}
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;
  RouteTable(RouteTable&&) = default;
  RouteTable& operator=(RouteTable&&) = default;
  ~RouteTable() = default;

  std::uint32_t id() const { return id_; }

  // Stores `route` with route.table set to this table's id. Checks what fib_table_insert and
  // fib_create_info check without looking at other tables (validate()) and that the route has
  // a device unless it is a reject type. Gateway and prefsrc validity need the other tables:
  // Fib::add_route.
  [[nodiscard]] Result<void> add(const Route& route, RouteAddMode mode = RouteAddMode::kAdd);
  // The kernel's checks, in its order, that need no other table: ECN bits in tos, host bits,
  // scope against type, no device or gateway on reject types, no gateway with scope host,
  // onlink only with a gateway and below scope link, a device when there is no gateway.
  // The message is what `ip` prints.
  static std::optional<Error> validate(const Route& route);

  // Removes and returns the first route matching `selector` (selector.table is not looked at);
  // kNotFound ("No such process") when none does.
  [[nodiscard]] Result<Route> remove(const RouteSelector& selector);

  // Longest-prefix match as fib_table_lookup: the longest prefix with a route whose TOS is 0 or
  // equals tos & 0x1c (IPTOS_RT_MASK), whose scope is at least min_scope and, when
  // oif_ifindex != 0, which leaves through that device (reject types match regardless of
  // device). Returns the route, reject types included (the caller turns them into errors), or
  // null. The pointer is valid until this table next changes.
  const Route* lookup(wire::Ipv4Address destination, std::uint8_t tos,
                      RouteScope min_scope = RouteScope::kUniverse,
                      std::uint32_t oif_ifindex = 0) const {
    return lookup_longer_than(destination, tos, min_scope, oif_ifindex, -1);
  }
  // The same, among prefixes longer than `length` only (-1 = all): the merged local+main lookup.
  const Route* lookup_longer_than(wire::Ipv4Address destination, std::uint8_t tos,
                                  RouteScope min_scope, std::uint32_t oif_ifindex,
                                  int length) const;

  // Routes through a device go when it is deleted (all) or set down (all but scope host).
  std::size_t remove_device_routes(std::uint32_t ifindex, bool keep_host_scope);
  // fib_sync_down_addr: routes whose `src` is an address that is gone.
  std::size_t remove_preferred_source(wire::Ipv4Address source);

  // Every route in `ip route show` order.
  std::vector<const Route*> routes() const;
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  struct Leaf {
    std::vector<Route> routes;
  };
  // network -> leaf for one prefix length; linear probing, power-of-two capacity, load <= 1/2,
  // deletion by backward shift (no tombstones).
  class LengthIndex {
   public:
    Leaf* find(std::uint32_t network) const;
    void insert(std::uint32_t network, Leaf* leaf);
    void erase(std::uint32_t network);
    bool empty() const { return size_ == 0; }

   private:
    struct Slot {
      std::uint32_t network = 0;
      Leaf* leaf = nullptr;  // null = free
    };
    std::size_t slot_of(std::uint32_t network) const;
    void grow();
    std::vector<Slot> slots_;
    std::size_t size_ = 0;
    int bits_ = 0;
  };

  static std::uint64_t leaf_key(const wire::Ipv4Prefix& prefix);
  Leaf& leaf_for(const wire::Ipv4Prefix& prefix);
  void drop_leaf_if_empty(std::map<std::uint64_t, Leaf>::iterator it);
  template <class Pred>
  std::size_t remove_where(Pred pred);

  std::uint32_t id_;
  std::map<std::uint64_t, Leaf> leaves_;  // dump order
  std::array<LengthIndex, 33> by_length_{};
  std::uint64_t lengths_present_ = 0;  // bit n: some route of prefix length n
  std::size_t size_ = 0;
};

}  // namespace calisim::dataplane
