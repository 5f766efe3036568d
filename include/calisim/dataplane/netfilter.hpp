#pragma once
// Netfilter's five IPv4 hooks as extension points (the rule engine comes later). They sit where
// the kernel's NF_HOOK calls sit:
//
//   PREROUTING   ip_rcv (net/ipv4/ip_input.c), after the header checks, before the route lookup
//   INPUT        ip_local_deliver, after reassembly, before the protocol handlers
//   FORWARD      ip_forward (net/ipv4/ip_forward.c), after the TTL decrement
//   OUTPUT       __ip_local_out (net/ipv4/ip_output.c), after the socket's route lookup
//   POSTROUTING  ip_output, before ip_finish_output fragments the datagram
//
// Functions are registered per hook with a priority, as nf_hook_ops are: lower priorities run
// first (iptables' raw is -300, mangle -150, dnat -100, filter 0, snat 100). Each gets the
// datagram (the IPv4 header first, no link header) and may rewrite it — a NAT engine changes
// addresses and fixes the checksums itself — and returns a verdict. The first kDrop ends the
// packet with DropReason::kNetfilterDrop (the kernel's SKB_DROP_REASON_NETFILTER_DROP).
//
// A hook with nothing registered costs one empty-vector check; nothing is allocated per packet.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include <calisim/sim/time.hpp>
#include <calisim/wire/packet.hpp>

namespace calisim::dataplane {

class Device;

enum class NfHook : std::uint8_t {
  kPrerouting,
  kInput,
  kForward,
  kOutput,
  kPostrouting,
  kCount,
};

constexpr std::string_view to_string(NfHook h) {
  switch (h) {
    case NfHook::kPrerouting:
      return "PREROUTING";
    case NfHook::kInput:
      return "INPUT";
    case NfHook::kForward:
      return "FORWARD";
    case NfHook::kOutput:
      return "OUTPUT";
    case NfHook::kPostrouting:
      return "POSTROUTING";
    case NfHook::kCount:
      break;
  }
  return "unknown";
}

enum class NfVerdict : std::uint8_t { kAccept, kDrop };

// What the kernel passes in struct nf_hook_state: the hook, and the input and output devices
// (nullptr where the kernel has none: no `in` at OUTPUT/POSTROUTING of local traffic, no `out`
// at PREROUTING/INPUT).
struct NfHookState {
  NfHook hook;
  const Device* in;
  const Device* out;
  Time now;
};

using NfHookFn = std::function<NfVerdict(wire::Packet& datagram, const NfHookState& state)>;

class Netfilter {
 public:
  // nf_register_net_hook: returns an id for unregister(). Functions with equal priority run in
  // the order they were registered. Neither call may be made from inside a hook function.
  std::size_t register_hook(NfHook hook, int priority, NfHookFn fn);
  void unregister_hook(std::size_t id);

  bool empty(NfHook hook) const { return chains_[index(hook)].empty(); }
  // nf_hook_slow: runs the hook's functions in priority order until one drops the packet.
  NfVerdict run(wire::Packet& datagram, const NfHookState& state) const;

 private:
  static constexpr std::size_t index(NfHook h) { return static_cast<std::size_t>(h); }
  struct Entry {
    std::size_t id;
    int priority;
    NfHookFn fn;
  };
  std::vector<Entry> chains_[static_cast<std::size_t>(NfHook::kCount)];
  std::size_t next_id_ = 1;
};

}  // namespace calisim::dataplane
