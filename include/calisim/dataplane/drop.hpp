#pragma once
// Why a packet died. Every drop in calisim records one of these, with a counter per namespace
// and an event, so that a user can ask "where did my packets go" the way they would read
// `nstat`, `ip -s link` or `dropwatch` on a real host.

#include <cstdint>
#include <string_view>

namespace calisim::dataplane {

enum class DropReason : std::uint8_t {
  kNoRoute,             // no route matched (ENETUNREACH): ICMP net unreachable when forwarding
  kBlackhole,           // a blackhole route or rule: silent
  kUnreachable,         // an unreachable route: ICMP host unreachable
  kProhibit,            // a prohibit route: ICMP "packet filtered" (3/13)
  kTtlExceeded,         // TTL <= 1 when forwarding: ICMP time exceeded
  kRpFilter,            // reverse-path filter (rp_filter 1 or 2)
  kMartian,             // martian source or destination (0/8, 127/8 without route_localnet, ...)
  kForwardingDisabled,  // not for us and forwarding is off on the input device: silent
  kMtu,                 // larger than the next hop's MTU with DF set: ICMP frag needed
  kNeighbourFailed,     // ARP never answered: ICMP host unreachable
  kNeighbourQueueFull,  // too many bytes waiting for ARP: the oldest is dropped
  kQueueFull,           // a link's transmit queue overflowed
  kLinkDown,            // no carrier (cable out, peer down)
  kDeviceDown,          // the device is administratively down
  kLoss,                // random loss on a link
  kFilteredByFabric,    // a fault: the fabric silently drops this protocol or port
  kMalformed,           // could not be parsed
  kBadChecksum,         // a checksum did not verify
  kNotForUs,            // an Ethernet frame for another host's MAC, on a shared segment
  kNoSocket,            // no local socket: ICMP port unreachable for UDP, RST for TCP
  kReassemblyTimeout,   // fragments never completed: ICMP time exceeded (reassembly)
  kTunnelMismatch,      // a tunnel packet no tunnel device accepts
  kNodeDown,            // the node has crashed (powered off) and not yet restarted
  kFabricMtu,           // larger than the fabric's MTU (a switch or cloud network): silent
  kNetfilterDrop,       // a netfilter hook function said drop (SKB_DROP_REASON_NETFILTER_DROP)
  kCount,
};

constexpr std::string_view to_string(DropReason r) {
  switch (r) {
    case DropReason::kNoRoute: return "no-route";
    case DropReason::kBlackhole: return "blackhole";
    case DropReason::kUnreachable: return "unreachable";
    case DropReason::kProhibit: return "prohibit";
    case DropReason::kTtlExceeded: return "ttl-exceeded";
    case DropReason::kRpFilter: return "rp-filter";
    case DropReason::kMartian: return "martian";
    case DropReason::kForwardingDisabled: return "forwarding-disabled";
    case DropReason::kMtu: return "mtu";
    case DropReason::kNeighbourFailed: return "neighbour-failed";
    case DropReason::kNeighbourQueueFull: return "neighbour-queue-full";
    case DropReason::kQueueFull: return "queue-full";
    case DropReason::kLinkDown: return "link-down";
    case DropReason::kDeviceDown: return "device-down";
    case DropReason::kLoss: return "loss";
    case DropReason::kFilteredByFabric: return "filtered-by-fabric";
    case DropReason::kMalformed: return "malformed";
    case DropReason::kBadChecksum: return "bad-checksum";
    case DropReason::kNotForUs: return "not-for-us";
    case DropReason::kNoSocket: return "no-socket";
    case DropReason::kReassemblyTimeout: return "reassembly-timeout";
    case DropReason::kTunnelMismatch: return "tunnel-mismatch";
    case DropReason::kNodeDown: return "node-down";
    case DropReason::kFabricMtu: return "fabric-mtu";
    case DropReason::kNetfilterDrop: return "netfilter-drop";
    case DropReason::kCount: break;
  }
  return "unknown";
}

inline constexpr std::size_t kDropReasonCount = static_cast<std::size_t>(DropReason::kCount);

}  // namespace calisim::dataplane
