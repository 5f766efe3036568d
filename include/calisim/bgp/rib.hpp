#pragma once
// The routing table of one BGP speaker, shaped as BIRD 2.0.12 shapes it (the daemon Calico
// runs): one table (`master4`) fed by protocols — BGP neighbours, `protocol static` (a node's own
// IPAM blocks as blackholes), the kernel protocol's learned routes, `protocol direct` — each
// contributing at most one route per prefix; the best route of each prefix chosen as
// nest/rt-table.c rte_recalculate / rte_better and proto/bgp/attrs.c bgp_rte_better choose it;
// and each BGP neighbour fed that best route through bgp_preexport, its export filter and
// bgp_update_attrs. No FSM and no sockets: the speaker feeds UPDATEs in and drains per-peer
// changes out.
//
//   Rib rib({.local_as = 64512, .router_id = me});
//   SourceId peer = rib.add_peer({.name = "Mesh_10_0_0_2", .address = ..., .export_filter = ...});
//   rib.originate(own_block);                       // `route 10.244.0.0/26 blackhole`
//   rib.peer_up(peer, peer_router_id);              // Established: everything is to be sent
//   rib.update(peer, prefixes, attributes);         // an UPDATE arrived
//   PeerUpdate out = rib.drain(peer);               // what to send now
//
// Decision order (bgp_rte_better, BIRD's order): route preference (static 200 > BGP 100; the
// nest's rte_better), next hop resolvable, LOCAL_PREF highest, AS_PATH shortest, ORIGIN lowest,
// MED lowest (same neighbour AS only unless `med metric`), external over internal, IGP metric
// (all equal here), ORIGINATOR_ID (else the peer's router id) lowest, CLUSTER_LIST shortest, peer
// address lowest. Routes of one prefix sit in a list in BIRD's order (best first, the others
// where rte_recalculate links them), which is the order `show route` prints them in.
//
// Adj-RIB-Out: what each peer was last sent, per prefix. Changes to the best route mark the
// prefix for every established peer; drain() then computes the export, compares it with the
// Adj-RIB-Out and returns only what differs (BIRD's buckets: the latest state of a prefix wins),
// announcements grouped by attribute set so that one UPDATE carries many prefixes.
//
// Storage: prefixes are kept in an open-addressing index and get a dense slot that they keep
// (like BIRD's nets, which stay until a table prune); routes live in one pool linked by index;
// attribute sets are interned and reference-counted (BIRD's rta cache), so 100,000 prefixes
// sharing a set hold one copy of it.
//
// Not modelled: ADD-PATH (Calico's template says `add paths on`; the codec has no path
// identifiers), confederations, deterministic MED, route limits, LLGR.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <calisim/bgp/policy.hpp>
#include <calisim/sim/time.hpp>
#include <calisim/wire/address.hpp>
#include <calisim/wire/bgp.hpp>

namespace calisim::bgp {

// One protocol feeding the table: a BGP neighbour or a local origin. Dense, from 0.
enum class SourceId : std::uint32_t {};
// A consumer of best-route changes (the kernel protocol).
enum class SubscriberId : std::uint32_t {};

// BIRD's default preferences (nest/protocol.h DEF_PREF_*).
inline constexpr std::uint32_t kPreferenceDirect = 240;
inline constexpr std::uint32_t kPreferenceStatic = 200;
inline constexpr std::uint32_t kPreferenceBgp = 100;
inline constexpr std::uint32_t kPreferenceInherit = 10;  // routes learned from the kernel
std::uint32_t default_preference(RouteSource source);

// One `protocol bgp` (proto/bgp/config.Y).
struct PeerConfig {
  std::string name;               // "Mesh_10_0_0_2": what `show route` / `show protocols` print
  wire::Ipv4Address address;      // `neighbor <address>` (BIRD's remote_ip)
  std::uint32_t as_number = 64512;  // `neighbor ... as N`; equal to the local AS: iBGP
  // `source address`: our end of the session; the next hop of the routes we originate.
  wire::Ipv4Address source_address;
  bool rr_client = false;  // `rr client`: this neighbour is a route-reflector client
  // `rr cluster id`; for an rr client, our router id when unset (bgp.c bgp_start).
  std::optional<wire::Ipv4Address> rr_cluster_id;
  bool next_hop_self = false;  // `next hop self`
  bool next_hop_keep = false;  // `next hop keep`
  // The device the neighbour is directly reached through ("" for multihop sessions): next hops
  // resolve to it when RibConfig::resolver is unset, and single-hop eBGP passes next hops on
  // between neighbours on the same device (packets.c bgp_use_next_hop).
  std::string interface;
  std::uint32_t preference = kPreferenceBgp;  // channel `preference`
  Filter import_filter = Filter::accept_all();  // `import all` (Calico)
  Filter export_filter = Filter::reject_all();  // BIRD's default is `export none`
};

// Where a BGP next hop leads (BIRD's hostentry, nest/rt-table.c rt_update_hostentry): the device,
// and the immediate gateway when the route to the next hop goes through a router (a next hop
// on a connected network is its own gateway). nullopt when no route leads there: BIRD then
// marks the route unreachable, and it loses to any resolvable one.
struct ResolvedNextHop {
  std::string interface;
  std::optional<wire::Ipv4Address> gateway{};
  bool operator==(const ResolvedNextHop&) const = default;
};
using NextHopResolver = std::function<std::optional<ResolvedNextHop>(wire::Ipv4Address next_hop)>;

struct RibConfig {
  std::uint32_t local_as = 64512;
  wire::Ipv4Address router_id;
  std::uint32_t default_local_pref = 100;  // `default bgp_local_pref`
  std::uint32_t default_med = 0;           // `default bgp_med`
  bool med_metric = false;                 // `med metric`: compare MED across neighbour ASes
  bool compare_path_lengths = true;        // `path metric`
  NextHopResolver resolver{};              // unset: the source neighbour's `interface`
};

// What the kernel protocol saw in a learned route (`show route all`: Kernel.source/metric/scope).
struct KernelRouteAttributes {
  std::uint8_t source_protocol = 3;  // rtm_protocol: 3 = boot (Felix's pod routes)
  std::uint32_t metric = 0;
  std::optional<std::uint8_t> scope{};  // rtm_scope when not universe (253 = link)
  bool operator==(const KernelRouteAttributes&) const = default;
};

// A route a local protocol puts into the table.
struct LocalRoute {
  RouteDest dest = RouteDest::kBlackhole;  // `route X blackhole`
  std::optional<wire::Ipv4Address> gateway{};  // unicast: `via`
  std::string interface{};                     // unicast: `dev` (or the via's device)
  bool onlink = false;
  std::optional<KernelRouteAttributes> kernel{};
  bool operator==(const LocalRoute&) const = default;
};

// Why an update was or was not taken into the table (bgp_decode_attrs, the import filter).
enum class ImportResult : std::uint8_t {
  kAccepted,
  kFiltered,  // the import filter rejected it: any previous route of the peer is withdrawn
  kLoop,      // our AS in AS_PATH, our router id as ORIGINATOR_ID, or (from an rr client) our
              // cluster id in CLUSTER_LIST: treated as withdraw (RFC 4456 §8)
};
std::string_view to_string(ImportResult result);

struct ImportSummary {
  std::size_t accepted = 0;
  std::size_t filtered = 0;
  std::size_t looped = 0;
  std::size_t best_changes = 0;  // prefixes whose best route changed
};

// One route of the Loc-RIB as `show route` shows it. Pointers and views stay valid until the
// table next changes.
struct RibRoute {
  wire::Ipv4Prefix prefix;
  SourceId source{};
  std::string_view protocol;  // "Mesh_10_0_0_2", "static1"
  RouteSource kind = RouteSource::kStatic;
  RouteDest dest = RouteDest::kBlackhole;
  std::uint32_t preference = 0;
  // `via`: for BGP routes the immediate gateway (the next hop itself when it is on a connected
  // network).
  std::optional<wire::Ipv4Address> gateway;
  std::string_view interface;  // `on` / `dev`; "" for reject routes
  bool onlink = false;
  std::optional<wire::Ipv4Address> from;  // BGP: the neighbour the route came from
  const wire::bgp::PathAttributes* attributes = nullptr;  // BGP routes only
  const KernelRouteAttributes* kernel = nullptr;          // learned kernel routes only
  Time since;  // last change (rte->lastmod)
  bool best = false;
  bool stale = false;  // kept over a graceful restart, not refreshed yet
};

// What to send one peer: BIRD's withdraw bucket and attribute buckets.
struct PeerUpdate {
  struct Group {
    wire::bgp::PathAttributes attributes;
    std::vector<wire::Ipv4Prefix> prefixes;  // ascending
  };
  std::vector<wire::Ipv4Prefix> withdrawn;  // ascending
  std::vector<Group> announced;  // in the order of each group's first prefix
  bool empty() const { return withdrawn.empty() && announced.empty(); }
  std::size_t announced_count() const;
};

class Rib {
 public:
  explicit Rib(RibConfig config);
  ~Rib();
  Rib(const Rib&) = delete;
  Rib& operator=(const Rib&) = delete;
  Rib(Rib&&) noexcept;
  Rib& operator=(Rib&&) noexcept;

  const RibConfig& config() const;
  // The time changes are stamped with (BIRD's current_time(), cached per event-loop turn).
  void set_now(Time now);
  Time now() const;

  // ---- protocols ----------------------------------------------------------------------------
  SourceId add_peer(PeerConfig config);
  // A local origin: `protocol static` ("static1", kStatic), the kernel protocol's learned routes
  // ("kernel1", kInherit), `protocol direct` ("direct1", kDevice).
  SourceId add_protocol(std::string name, RouteSource kind, std::optional<std::uint32_t> preference = {});
  const PeerConfig& peer(SourceId peer) const;
  bool is_peer(SourceId source) const;
  std::string_view source_name(SourceId source) const;
  std::size_t source_count() const;

  // ---- sessions -----------------------------------------------------------------------------
  // The session reached Established with a neighbour whose BGP identifier is `router_id`: its
  // Adj-RIB-Out starts empty and every prefix is marked for it (BIRD's initial feed), to be
  // drained. Also after a graceful restart (its routes, kept stale, stay in the table).
  void peer_up(SourceId peer, wire::Ipv4Address router_id);
  // The session went down: its routes are withdrawn (returns how many), its Adj-RIB-Out and
  // pending changes are dropped.
  std::size_t peer_down(SourceId peer);
  bool is_up(SourceId peer) const;
  // Graceful restart (RFC 4724; BIRD's rt_refresh_begin / rt_refresh_end): the routes of a
  // restarting peer are kept but marked stale; routes it sends again lose the mark;
  // flush_stale() withdraws those still stale (returns how many).
  void mark_stale(SourceId peer);
  std::size_t flush_stale(SourceId peer);

  // ---- Adj-RIB-In (routes from a neighbour; the peer must be up) ---------------------------------
  ImportResult update(SourceId peer, wire::Ipv4Prefix prefix, const wire::bgp::PathAttributes& attributes);
  ImportSummary update(SourceId peer, std::span<const wire::Ipv4Prefix> prefixes,
                       const wire::bgp::PathAttributes& attributes);
  // True when the best route of the prefix changed.
  bool withdraw(SourceId peer, wire::Ipv4Prefix prefix);
  std::size_t withdraw(SourceId peer, std::span<const wire::Ipv4Prefix> prefixes);
  // A whole UPDATE: its withdrawn routes, then its NLRI.
  ImportSummary apply(SourceId peer, const wire::bgp::Update& update);
  // The attributes of the peer's route for a prefix as stored (after the import filter).
  const wire::bgp::PathAttributes* adj_rib_in(SourceId peer, wire::Ipv4Prefix prefix) const;
  std::size_t adj_rib_in_size(SourceId peer) const;

  // ---- local routes -------------------------------------------------------------------------
  // Into "static1" (a `protocol static` made on first use). True when the best route changed.
  bool originate(wire::Ipv4Prefix prefix, LocalRoute route = {});
  bool originate(SourceId protocol, wire::Ipv4Prefix prefix, LocalRoute route);
  bool withdraw_local(wire::Ipv4Prefix prefix);
  bool withdraw_local(SourceId protocol, wire::Ipv4Prefix prefix);

  // ---- Loc-RIB ------------------------------------------------------------------------------
  std::optional<RibRoute> best(wire::Ipv4Prefix prefix) const;
  // Every route of the prefix, best first, in BIRD's list order.
  std::vector<RibRoute> routes(wire::Ipv4Prefix prefix) const;
  // Prefixes with at least one route, ascending (address, then length).
  std::vector<wire::Ipv4Prefix> prefixes() const;
  // The same prefixes in the order BIRD's `show route` walks its table: its FIB hash order
  // (nest/rt-fib.c FIB_INSERT keeps chains sorted by net_hash_ip4, lib/net.h).
  std::vector<wire::Ipv4Prefix> prefixes_in_bird_order() const;
  std::size_t size() const;         // prefixes with a route
  std::size_t route_count() const;  // routes in the table

  // ---- Adj-RIB-Out --------------------------------------------------------------------------
  // What changed for the peer since the last drain: withdrawals, and announcements grouped by
  // attribute set (each group one run of encode_updates). Updates the Adj-RIB-Out.
  PeerUpdate drain(SourceId peer);
  // What the peer was last sent for a prefix (null: nothing, or withdrawn).
  const wire::bgp::PathAttributes* adj_rib_out(SourceId peer, wire::Ipv4Prefix prefix) const;
  std::size_t adj_rib_out_size(SourceId peer) const;
  std::size_t pending(SourceId peer) const;  // prefixes waiting for drain()
  // Moves the peers that have had changes marked since the last call into `out` (cleared
  // first); some may have been drained meanwhile (pending() == 0). With it a speaker visits
  // the peers a change concerns instead of all of them.
  void take_pending_peers(std::vector<SourceId>& out);
  // What the export to the peer would be now (`show route export`), without changing anything.
  std::optional<wire::bgp::PathAttributes> export_preview(SourceId peer, wire::Ipv4Prefix prefix) const;

  // ---- best-route changes ---------------------------------------------------------------------
  SubscriberId subscribe();
  // Prefixes whose best route changed since the last call, ascending. The first call after
  // subscribe() returns every prefix in the table.
  std::vector<wire::Ipv4Prefix> drain_best_changes(SubscriberId subscriber);

  // Next hops are resolved when a route arrives; call this when devices or connected routes
  // changed. Returns the number of prefixes whose best route changed.
  std::size_t refresh_next_hops();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace calisim::bgp
