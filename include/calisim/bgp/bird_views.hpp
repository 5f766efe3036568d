#pragma once
// What `birdc` prints, line for line as BIRD 2.0.12 does (wire.md §4.1; nest/proto.c
// proto_cmd_show, nest/rt-show.c rt_show_rte, nest/rt-attr.c rta_show / ea_show,
// proto/bgp/attrs.c bgp_get_route_info / bgp_get_attr), checked against a real BIRD 2.0.12 in a
// three-node lab:
//
//   BIRD 2.0.12 ready.
//   Name       Proto      Table      State  Since         Info
//   static1    Static     master4    up     00:00:00.000
//   Mesh_192_168_56_11 BGP        ---        up     00:00:05.436  Established
//
//   BIRD 2.0.12 ready.
//   Table master4:
//   10.244.1.0/26        unicast [Mesh_192_168_56_11 00:00:05.671] * (100) [i]
//   	via 192.168.56.11 on enp0s8
//   10.244.0.0/26        blackhole [static1 00:00:00.000] * (200)
//
// (rows end in the padding BIRD leaves: "up     00:00:00.000  " and "Established   ").
//
// Times: simulation time 0 is 00:00:00 of 2024-01-01 in the time zone BIRD prints in (UTC), so
// Time::from_ns(5'436'000'000) prints as 00:00:05.436. BIRD 2's default `timeformat protocol`
// and `timeformat route` are "%T.%3f" for changes less than 20 hours old and "%F" (the date)
// for older ones (conf/conf.c TM_ISO_SHORT_MS); Calico's BIRD 1.6 fork prints "%T" (no
// milliseconds): BirdTimeFormat::iso_short().
//
// The views take plain values (rows for the protocols, the table for the routes), so they do
// not depend on the session code.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <calisim/bgp/kernel.hpp>
#include <calisim/bgp/rib.hpp>
#include <calisim/sim/time.hpp>
#include <calisim/wire/address.hpp>

namespace calisim::bgp {

// BIRD's `struct timeformat` (lib/timer.h): `recent` for times less than `limit` ago, `older`
// for the rest. strftime conversions %Y %m %d %H %M %S %T %F %%, and BIRD's %f / %1f..%6f
// (fractions of a second, truncated).
struct BirdTimeFormat {
  std::string recent = "%T.%3f";
  std::string older = "%F";
  Duration limit = Duration::seconds(20 * 3600);

  static BirdTimeFormat iso_short_ms() { return {}; }  // BIRD 2 default
  static BirdTimeFormat iso_short() { return {"%T", "%F", Duration::seconds(20 * 3600)}; }
  static BirdTimeFormat iso_long_ms() { return {"%F %T.%3f", "%F %T.%3f", Duration::zero()}; }
};

// The wall-clock day simulation time 0 falls on (00:00:00 UTC).
inline constexpr int kBirdEpochYear = 2024;
inline constexpr unsigned kBirdEpochMonth = 1;
inline constexpr unsigned kBirdEpochDay = 1;

// tm_format_time: `t` as seen at `now`.
std::string format_bird_time(Time t, Time now, const BirdTimeFormat& format);

// Which BIRD prints: BIRD 2 (what a plain `birdc` on a Linux router shows), or the BIRD 1.6 fork
// calico-node runs (`birdcl` in the calico-node container; projectcalico/bird, nest/proto.c
// proto_cmd_show "%-8s %-8s %-8s %-5s  %-10s  %s", nest/rt-table.c rt_show_rte
// "%-18s %s [%s %s%s]%s%s" with the gateway on the same line, no "Table" heading, and
// proto/bgp/attrs.c bgp_get_route_info's " (100/0) [i]" with the IGP metric of the next hop).
enum class BirdLayout : std::uint8_t { kBird2, kBird16 };

struct BirdViewOptions {
  Time now;  // the moment birdc asks
  BirdTimeFormat protocol_time = BirdTimeFormat::iso_short_ms();
  BirdTimeFormat route_time = BirdTimeFormat::iso_short_ms();
  bool banner = true;  // birdc's "BIRD 2.0.12 ready." greeting
  std::string version = "2.0.12";
  BirdLayout layout = BirdLayout::kBird2;

  // What `birdcl` prints in calico-node: "BIRD v0.3.3+birdv1.6.8 ready.", times "%T" for changes
  // less than 20 hours old, else "%F" (conf/conf.c of the fork).
  static BirdViewOptions calico_node(Time now) {
    BirdViewOptions o;
    o.now = now;
    o.protocol_time = BirdTimeFormat::iso_short();
    o.route_time = BirdTimeFormat::iso_short();
    o.version = "v0.3.3+birdv1.6.8";
    o.layout = BirdLayout::kBird16;
    return o;
  }
};

// One row of `show protocols`.
struct BirdProtocolRow {
  std::string name;           // "Mesh_192_168_56_11", "kernel1"
  std::string proto;          // "BGP", "Kernel", "Device", "Direct", "Static"
  std::string table = "---";  // "master4" for protocols with one main channel
  std::string state = "up";   // proto_state_name: "down", "start", "up", "stop", "flush"
  Time since;                 // last state change
  std::string info;           // BGP: bgp_get_status ("Established   ", "Active        Socket: ...")
};

std::string show_protocols(std::span<const BirdProtocolRow> rows, const BirdViewOptions& options);

struct ShowRouteOptions {
  bool all = false;  // `show route all`: the attribute block under each route
  std::optional<wire::Ipv4Prefix> prefix{};  // `show route <prefix>`: that network only
  // `show route for <address>`: the longest prefix with a route covering the address.
  std::optional<wire::Ipv4Address> for_address{};
  std::optional<SourceId> protocol{};  // `show route protocol <name>`
  // `show route export <peer>`: the routes the peer's export would send (its best routes that
  // pass bgp_preexport and the export filter), printed as they are in the table.
  std::optional<SourceId> export_to{};
  bool primary_only = false;  // `show route primary`
  // The kernel protocol attached to the table: its sync errors print '!' instead of '*'.
  const KernelProtocol* kernel = nullptr;
  std::string_view table = "master4";
};

std::string show_route(const Rib& rib, const BirdViewOptions& options,
                       const ShowRouteOptions& show = {});

// The lines of one route (rt_show_rte, then rta_show when `all`), without the table header.
// `first` prints the prefix column, else 20 spaces.
std::string bird_route_lines(const RibRoute& route, const BirdViewOptions& options, bool all,
                             bool first = true, bool sync_error = false);

}  // namespace calisim::bgp
