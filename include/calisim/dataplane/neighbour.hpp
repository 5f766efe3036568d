#pragma once
// The neighbour (ARP) table of one network namespace as a sans-IO state machine, following
// net/core/neighbour.c and net/ipv4/arp.c (linux.md §2.3). It never reads a clock and never sends
// anything: every call takes the current time, and what the table wants done comes back as
// values. The Namespace that owns it sends the ARP requests it asks for, transmits the packets it
// releases, turns failed packets into ICMP host unreachable, and calls poll() at next_deadline().
//
//   auto r = table.resolve(ifindex, next_hop, now, ip_source);   // for every packet sent
//   kResolved: send with r.mac.  kQueue: table.enqueue(...), and send *r.request if present.
//   kFailed: drop ("neighbour failed").
//   table.on_arp({ifindex, sender_ip, sender_mac, receipt}, now)  // for every ARP received
//   for (auto& action : table.poll(now)) ...                       // at next_deadline()
//
// States and timers are the kernel's (neigh_timer_handler, __neigh_event_send, __neigh_update):
//   - a new or FAILED entry goes INCOMPLETE with the probe counter preset to ucast_solicit and
//     sends a broadcast request at once, then one per retrans_time; FAILED when the counter
//     reaches ucast+app+mcast solicit: with the defaults 3 requests at t, t+1 s, t+2 s and
//     FAILED at t+3 s, returning the queued packets (linux.md §2.3 "FAILED ≈3 s after the first");
//   - REACHABLE lasts reachable_time after the last confirmation, then becomes DELAY if the
//     entry was used within delay_first_probe_time, else STALE. As in the kernel, sending through
//     a REACHABLE/PERMANENT/NOARP entry whose Ethernet header is cached (after its first packet)
//     does not update `used` (neigh_output takes the hh-cache fast path, neigh_hh_output, which
//     never touches it), so a busy REACHABLE entry normally goes STALE, not DELAY;
//   - STALE becomes DELAY when a packet is sent; DELAY becomes REACHABLE if confirmed within
//     delay_first_probe_time, else PROBE: ucast_solicit unicast requests to the cached MAC, one
//     per retrans_time, the first at once, then FAILED;
//   - a timer that fires while the entry is still fresh re-arms for at least 10 ms (HZ/100), so
//     REACHABLE with no confirmation ends 10 ms after confirmed + reachable_time, as it does on a
//     kernel whose timer fires on time. Timer-wheel slack (up to ~0.5-2 s for 30 s timers) is not
//     modelled: deadlines are exact.
//   - reachable_time is drawn per interface uniformly in [base/2, 3*base/2) at millisecond
//     resolution (neigh_rand_reach_time in jiffies, HZ=1000) from the RandomStream the table is
//     given, when an interface first needs it, and drawn again when it is older than 300 s (the
//     kernel redraws every 300 s in neigh_periodic_work).
// What arp_process does with a received ARP, given by the caller as an ArpReceipt:
//   - a request we answer (target local, or proxied) creates or updates the sender's entry as
//     STALE with override (neigh_event_ns);
//   - any other request, or a reply, only updates an existing entry: REACHABLE for a reply whose
//     frame was addressed to us (PACKET_HOST), STALE otherwise; a different MAC replaces a valid
//     one only after locktime (1 s) since the entry last changed, or for a gratuitous ARP;
//   - replies for unknown addresses and gratuitous ARP never create entries (arp_accept = 0,
//     the default); a sender IP of 0.0.0.0 (RFC 5227 probe) never touches the table.
// Packets queued while INCOMPLETE are charged like skb->truesize: their length plus the sk_buff
// and skb_shared_info overhead (576 bytes on x86-64; SKB_TRUESIZE), up to unres_qlen_bytes per
// entry; an arriving packet drops the OLDEST ones until it fits (unres_discards), and a single
// packet larger than the limit is still queued, as __neigh_event_send does. The real truesize also
// includes allocator rounding, so a kernel holds somewhat fewer packets.
// When an INCOMPLETE entry becomes valid, each queued packet is sent as if through resolve(), in
// order: `used` becomes now and a STALE entry goes to DELAY, as neigh_resolve_output does.
// Not modelled: the refcount condition of garbage collection (entries held by a cached route are
// collected here), forced GC at gc_thresh2/3 and the table size limit, per-interface sysctl
// overrides (one NeighbourParams for the table), app_solicit probes to a user-space daemon (they
// send nothing), and devices without ARP (tunl0, loopback): the Namespace adds NOARP entries
// for those with add_noarp() instead of resolving.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <calisim/sim/random.hpp>
#include <calisim/sim/result.hpp>
#include <calisim/sim/time.hpp>
#include <calisim/wire/address.hpp>
#include <calisim/wire/packet.hpp>

namespace calisim::dataplane {

// NUD states (include/uapi/linux/neighbour.h). NONE is never held: a new entry goes straight to
// INCOMPLETE (sending) or STALE (learnt from an ARP request).
enum class NeighbourState : std::uint8_t {
  kIncomplete,
  kReachable,
  kStale,
  kDelay,
  kProbe,
  kFailed,
  kNoarp,
  kPermanent,
};

// As `ip neigh` prints it: "REACHABLE", "NOARP", ...
std::string_view to_string(NeighbourState state);
// NUD_VALID: the entry holds a usable MAC (REACHABLE, STALE, DELAY, PROBE, NOARP, PERMANENT).
bool is_valid(NeighbourState state);

// net.ipv4.neigh.default.* as a new namespace has them (arp.c `arp_tbl`, confirmed by
// `ip ntable show` on kernel 6.18, linux.md §2.3; meanings in ip-sysctl.rst "neigh/default").
struct NeighbourParams {
  Duration base_reachable_time = Duration::seconds(30);    // base_reachable_time_ms 30000
  Duration retrans_time = Duration::seconds(1);            // retrans_time_ms 1000
  Duration delay_first_probe_time = Duration::seconds(5);  // delay_first_probe_time 5
  Duration gc_stale_time = Duration::seconds(60);          // gc_stale_time 60
  Duration locktime = Duration::seconds(1);                // locktime 100 (1/100 s)
  int ucast_solicit = 3;    // unicast probes in PROBE; also the INCOMPLETE counter's start
  int mcast_solicit = 3;    // broadcast requests while INCOMPLETE
  int app_solicit = 0;      // probes handed to a user-space daemon (none sent here)
  int mcast_resolicit = 0;  // broadcast requests after the unicast ones in PROBE
  // Per entry. SK_WMEM_MAX = SKB_TRUESIZE(256) * 256 = 212992 ("SK_WMEM_MAX, same as
  // net.core.wmem_default" in ip-sysctl.rst; renamed SK_WMEM_DEFAULT later, same value); the
  // kernel shows it as unres_qlen 101 = 212992 / SKB_TRUESIZE(1514).
  std::size_t unres_qlen_bytes = 212992;
  // What SKB_TRUESIZE adds to a packet's length: SKB_DATA_ALIGN(sizeof(struct sk_buff)) 256 +
  // SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) 320 on x86-64.
  std::size_t skb_overhead_bytes = 576;
  // Periodic GC (neigh_periodic_work, every base_reachable_time/2) removes FAILED entries and
  // entries unused for gc_stale_time, but only while the table holds at least this many.
  std::size_t gc_thresh1 = 128;
};

// One entry as a test or a view sees it.
struct NeighbourEntry {
  std::uint32_t ifindex = 0;
  wire::Ipv4Address address;
  NeighbourState state = NeighbourState::kIncomplete;
  wire::MacAddress mac;  // meaningful when is_valid(state)
  bool router = false;   // NTF_ROUTER, set only by an administrative add
  Time updated;          // last change of state or MAC
  Time confirmed;        // last proof of reachability
  Time used;             // last packet sent through the slow path
  std::uint32_t probes = 0;  // the kernel's probe counter (`ip -s neigh` "probes")
  std::size_t queued_packets = 0;
  std::size_t queued_bytes = 0;  // truesize-charged
};

// Ask for an ARP request: broadcast while INCOMPLETE, unicast to the cached MAC in PROBE.
struct SendArpRequest {
  std::uint32_t ifindex = 0;
  wire::Ipv4Address target;
  std::optional<wire::MacAddress> unicast_to;  // nullopt: to ff:ff:ff:ff:ff:ff
  // The source address of the newest queued packet (what arp_solicit looks at with
  // arp_announce 0: use it if it is local, else inet_select_addr); unspecified when the queue is
  // empty (PROBE) or the caller did not give one.
  wire::Ipv4Address packet_source;
  bool operator==(const SendArpRequest&) const = default;
};

// Resolution failed. Each packet gets arp_error_report: ICMP host unreachable to its source,
// then a drop with reason "neighbour failed". Also reported, with no packets, when PROBE fails.
struct NeighbourFailed {
  std::uint32_t ifindex = 0;
  wire::Ipv4Address address;
  std::vector<wire::Packet> packets;  // oldest first
};

using NeighbourAction = std::variant<SendArpRequest, NeighbourFailed>;

// Packets an update made sendable, oldest first, with the MAC to send them to.
struct ReleasedPackets {
  std::uint32_t ifindex = 0;
  wire::Ipv4Address address;
  wire::MacAddress mac;
  std::vector<wire::Packet> packets;
};

struct Resolution {
  enum class Kind : std::uint8_t {
    kResolved,  // send now to `mac`
    kQueue,     // INCOMPLETE: hand the packet to enqueue()
    kFailed,    // mcast_solicit + app_solicit = 0: the entry fails at once; drop the packet
  };
  Kind kind = Kind::kResolved;
  wire::MacAddress mac;
  std::optional<SendArpRequest> request;  // with kQueue when this packet started resolution
};

// How arp_process saw a received ARP packet; the Namespace decides it (routing, proxy_arp).
enum class ArpReceipt : std::uint8_t {
  kRequestAnswered,  // a request we reply to, for a local target or as a proxy
  kRequestOther,     // a request we do not reply to
  kReplyToUs,        // a reply in a frame addressed to our MAC (PACKET_HOST)
  kReplyOther,       // a reply in a broadcast or multicast frame
};

struct ArpReceived {
  std::uint32_t ifindex = 0;
  wire::Ipv4Address sender_ip;
  wire::MacAddress sender_mac;
  ArpReceipt receipt = ArpReceipt::kRequestOther;
  // arp_is_garp: sender IP == target IP (for a reply also target MAC == sender MAC), and the
  // sender IP is a unicast address for this namespace. Lets a new MAC win inside locktime.
  bool gratuitous = false;
};

struct NeighbourCounters {
  std::uint64_t allocs = 0;          // entries created
  std::uint64_t destroys = 0;        // entries removed
  std::uint64_t res_failed = 0;      // resolutions that ended FAILED
  std::uint64_t unres_discards = 0;  // queued packets dropped for room
  std::uint64_t periodic_gc_runs = 0;
};

class NeighbourTable {
 public:
  // `random` supplies reachable_time; give each table its own named stream.
  explicit NeighbourTable(RandomStream random, NeighbourParams params = {});
  NeighbourTable(const NeighbourTable&) = delete;
  NeighbourTable& operator=(const NeighbourTable&) = delete;
  NeighbourTable(NeighbourTable&&) = default;
  NeighbourTable& operator=(NeighbourTable&&) = default;
  ~NeighbourTable() = default;

  const NeighbourParams& params() const { return params_; }

  // For every packet to transmit to `next_hop` out of `ifindex` (neigh_output /
  // neigh_event_send). Does not allocate when the entry exists. `packet_source` is the packet's
  // IPv4 source, carried into the ARP request this call may start.
  [[nodiscard]] Resolution resolve(std::uint32_t ifindex, wire::Ipv4Address next_hop, Time now,
                                   wire::Ipv4Address packet_source = {});

  // Queue a packet on an INCOMPLETE entry (right after resolve() said kQueue). Returns the
  // packets dropped to make room, oldest first: drop them with reason "neighbour queue full".
  [[nodiscard]] std::vector<wire::Packet> enqueue(std::uint32_t ifindex, wire::Ipv4Address next_hop,
                                                  wire::Packet packet,
                                                  wire::Ipv4Address packet_source = {});

  // What arp_process does to the table. Returns the packets the entry's new MAC releases.
  [[nodiscard]] ReleasedPackets on_arp(const ArpReceived& arp, Time now);

  // Upper-layer reachability confirmation (dst_confirm_neigh: TCP forward progress,
  // MSG_CONFIRM): moves `confirmed` to now; no state change by itself.
  void confirm(std::uint32_t ifindex, wire::Ipv4Address address, Time now);

  // Timers due at `now`, in deadline order (then ifindex, address), and periodic GC, which runs
  // at multiples of base_reachable_time/2 from time zero while the table holds >= gc_thresh1
  // entries (the kernel's phase is its boot time).
  [[nodiscard]] std::vector<NeighbourAction> poll(Time now);
  // The earliest time poll() has work; Time::max() when none.
  Time next_deadline() const;

  // `ip neigh replace ADDR lladdr MAC nud STATE [router] dev DEV` (NEIGH_UPDATE_F_ADMIN |
  // OVERRIDE): creates or overwrites. STATE is PERMANENT, NOARP, REACHABLE or STALE
  // (kInvalidArgument otherwise). Felix's static pod entries are PERMANENT (calico.md §1.2).
  [[nodiscard]] Result<ReleasedPackets> replace(std::uint32_t ifindex, wire::Ipv4Address address,
                                                wire::MacAddress mac, NeighbourState state,
                                                Time now, bool router = false);
  [[nodiscard]] ReleasedPackets add_permanent(std::uint32_t ifindex, wire::Ipv4Address address,
                                              wire::MacAddress mac, Time now);
  [[nodiscard]] ReleasedPackets add_noarp(std::uint32_t ifindex, wire::Ipv4Address address,
                                          wire::MacAddress mac, Time now);
  // `ip neigh del`: the packets of an INCOMPLETE entry fail (ICMP host unreachable), as
  // neigh_update(FAILED) does before the entry goes. kNotFound when there is no entry.
  [[nodiscard]] Result<std::vector<wire::Packet>> remove(std::uint32_t ifindex,
                                                         wire::Ipv4Address address);
  // `ip neigh flush dev X` (ifindex 0: every device): removes every entry except PERMANENT and
  // NOARP, failing the queued packets of INCOMPLETE ones.
  [[nodiscard]] std::vector<NeighbourFailed> flush(std::uint32_t ifindex);
  // The device went down or away (neigh_ifdown): every entry of it, PERMANENT included, and its
  // proxy entries go; queued packets are dropped silently (returned for the drop counters).
  [[nodiscard]] std::vector<wire::Packet> device_down(std::uint32_t ifindex);

  // Proxy entries (`ip neigh add proxy ADDR dev DEV`, pneigh): arp_process answers requests for
  // them when the route to ADDR leaves by another device (linux.md §2.1).
  void add_proxy(std::uint32_t ifindex, wire::Ipv4Address address);
  [[nodiscard]] Result<void> remove_proxy(std::uint32_t ifindex, wire::Ipv4Address address);
  bool is_proxied(std::uint32_t ifindex, wire::Ipv4Address address) const;

  const NeighbourEntry* find(std::uint32_t ifindex, wire::Ipv4Address address) const;
  std::size_t size() const { return entries_.size(); }
  // Every entry ordered by ifindex, then address.
  std::vector<NeighbourEntry> entries() const;
  // Proxy entries as (ifindex, address), ordered the same way.
  std::vector<std::pair<std::uint32_t, wire::Ipv4Address>> proxies() const;
  // The interface's current reachable_time, if one was drawn (`ip ntable show` "reachable").
  std::optional<Duration> reachable_time(std::uint32_t ifindex) const;
  const NeighbourCounters& counters() const { return counters_; }

  // Called on every state change (RTM_NEWNEIGH in `ip monitor neigh`), after it happened;
  // `from` is nullopt for an entry just created (NUD_NONE).
  using Observer = std::function<void(const NeighbourEntry& entry,
                                      std::optional<NeighbourState> from, Time now)>;
  void set_observer(Observer observer) { observer_ = std::move(observer); }

 private:
  struct QueuedPacket {
    wire::Packet packet;
    wire::Ipv4Address source;
    std::size_t charge = 0;
  };
  struct Slot {
    NeighbourEntry e;
    std::vector<QueuedPacket> queue;
    bool none = true;        // NUD_NONE: created in this call, no state yet
    bool hh_cached = false;  // the Ethernet header is cached: CONNECTED sends skip `used`
    Time deadline = Time::max();
    std::size_t heap_pos = kNotInHeap;
  };
  struct InterfaceParms {
    Duration reachable_time;
    Time drawn_at;
  };
  static constexpr std::size_t kNotInHeap = static_cast<std::size_t>(-1);

  static std::uint64_t key(std::uint32_t ifindex, wire::Ipv4Address address) {
    return (std::uint64_t{ifindex} << 32) | address.value();
  }
  // key -> slot, open addressing with linear probing (power-of-two cells, load <= 1/2,
  // deletion by backward shift). Every broadcast ARP on a segment looks its sender up in every
  // receiver's table (arp_process), so a 500-node L2 does this some 60 million times: one
  // cache line per lookup instead of the unordered_map's chain of nodes. Keys are never 0
  // (ifindex 0 is no device); slots live in entries_, whose nodes do not move.
  class SlotIndex {
   public:
    Slot* find(std::uint64_t key) const;
    void insert(std::uint64_t key, Slot* slot);
    void erase(std::uint64_t key);

   private:
    struct Cell {
      std::uint64_t key = 0;  // 0 = free
      Slot* slot = nullptr;
    };
    std::size_t home(std::uint64_t key) const {
      return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ULL) >> shift_);
    }
    void grow();
    std::vector<Cell> cells_;
    std::size_t size_ = 0;
    int shift_ = 64;
  };
  Slot* find_slot(std::uint64_t k) const { return index_.find(k); }
  Slot& create(std::uint32_t ifindex, wire::Ipv4Address address, Time now);
  void destroy(std::uint64_t k);
  void set_state(Slot& s, NeighbourState state, Time now);
  Duration reachable_time_at(std::uint32_t ifindex, Time now);
  int max_probes(const Slot& s) const;
  std::optional<SendArpRequest> probe(Slot& s);
  void start_incomplete(Slot& s, Time now);
  // __neigh_update for the flags the ARP paths use; returns the packets it releases.
  ReleasedPackets update(Slot& s, wire::MacAddress mac, NeighbourState state, bool override,
                         bool admin, Time now);
  void note_sent(Slot& s, Time now);
  std::vector<wire::Packet> take_queue(Slot& s);
  void timer(Slot& s, Time now, std::vector<NeighbourAction>& out);
  void collect_garbage(Time now);

  // Timers: a binary min-heap of slots by (deadline, key) with positions kept in the slots, so
  // re-arming is O(log n) and never allocates (capacity follows the entry count).
  bool earlier(const Slot* a, const Slot* b) const;
  void arm(Slot& s, Time when);
  void disarm(Slot& s);
  void heap_place(std::size_t pos, Slot* s);
  void sift_up(std::size_t pos);
  void sift_down(std::size_t pos);

  NeighbourParams params_;
  RandomStream random_;
  std::unordered_map<std::uint64_t, Slot> entries_;
  SlotIndex index_;
  std::vector<Slot*> heap_;
  std::unordered_map<std::uint32_t, InterfaceParms> interfaces_;
  std::set<std::uint64_t> proxies_;
  Time next_gc_;
  NeighbourCounters counters_;
  Observer observer_;
};

// `ip neigh show` (iproute2 6.1 print_neigh): "ADDR dev DEV lladdr MAC [router ]STATE \n" per
// entry; INCOMPLETE and FAILED print no lladdr (the kernel sends NDA_LLADDR only for valid
// entries). Linux lists in hash order; we list by ifindex, then address, so output is stable.
struct NeighShowOptions {
  std::uint32_t dev = 0;  // `dev X`: only this device, and the lines omit "dev X"
  bool all = false;       // `nud all`: NOARP entries too (hidden by default)
  bool proxy = false;     // `proxy`: the proxy entries, "ADDR dev DEV proxy \n"
};
// `name` maps an ifindex to its device name (IfNames::name fits); unset or "" prints "if<N>",
// as iproute2's ll_index_to_name does for an unknown index.
using DeviceNameFn = std::function<std::string(std::uint32_t ifindex)>;
std::string ip_neigh_show(const NeighbourTable& table, const DeviceNameFn& name,
                          const NeighShowOptions& options = {});

}  // namespace calisim::dataplane
