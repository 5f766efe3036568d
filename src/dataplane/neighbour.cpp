// The neighbour table: net/core/neighbour.c (__neigh_event_send, neigh_timer_handler,
// __neigh_update, neigh_periodic_work) and net/ipv4/arp.c (arp_solicit, arp_process) as a
// sans-IO state machine. Comments name the kernel function each piece follows.

#include <calisim/dataplane/neighbour.hpp>

#include <algorithm>
#include <bit>
#include <iterator>
#include <utility>

#include <fmt/format.h>

namespace calisim::dataplane {

namespace {

// HZ/100: the shortest re-arm neigh_timer_handler allows.
constexpr Duration kMinTimer = Duration::milliseconds(10);
// neigh_periodic_work redraws reachable_time when this much has passed since the last draw.
constexpr Duration kRedrawInterval = Duration::seconds(300);

bool is_connected(NeighbourState s) {  // NUD_CONNECTED
  return s == NeighbourState::kReachable || s == NeighbourState::kNoarp ||
         s == NeighbourState::kPermanent;
}
bool in_timer(NeighbourState s) {  // NUD_IN_TIMER
  return s == NeighbourState::kIncomplete || s == NeighbourState::kReachable ||
         s == NeighbourState::kDelay || s == NeighbourState::kProbe;
}

}  // namespace

std::string_view to_string(NeighbourState state) {
  switch (state) {
    case NeighbourState::kIncomplete: return "INCOMPLETE";
    case NeighbourState::kReachable: return "REACHABLE";
    case NeighbourState::kStale: return "STALE";
    case NeighbourState::kDelay: return "DELAY";
    case NeighbourState::kProbe: return "PROBE";
    case NeighbourState::kFailed: return "FAILED";
    case NeighbourState::kNoarp: return "NOARP";
    case NeighbourState::kPermanent: return "PERMANENT";
  }
  return "UNKNOWN";
}

bool is_valid(NeighbourState state) {
  return state != NeighbourState::kIncomplete && state != NeighbourState::kFailed;
}

NeighbourTable::NeighbourTable(RandomStream random, NeighbourParams params)
    : params_(params),
      random_(random),
      next_gc_(Time::zero() + params.base_reachable_time / 2) {}

// ---- entries --------------------------------------------------------------------------------

NeighbourTable::Slot* NeighbourTable::SlotIndex::find(std::uint64_t key) const {
  if (cells_.empty()) return nullptr;
  const std::size_t mask = cells_.size() - 1;
  for (std::size_t i = home(key);; i = (i + 1) & mask) {
    const Cell& c = cells_[i];
    if (c.key == key) return c.slot;
    if (c.key == 0) return nullptr;
  }
}

void NeighbourTable::SlotIndex::grow() {
  std::vector<Cell> old = std::move(cells_);
  const std::size_t size = old.empty() ? 16 : old.size() * 2;
  cells_.assign(size, Cell{});
  shift_ = 64 - std::countr_zero(size);
  size_ = 0;
  for (const Cell& c : old) {
    if (c.key != 0) insert(c.key, c.slot);
  }
}

void NeighbourTable::SlotIndex::insert(std::uint64_t key, Slot* slot) {
  if (2 * (size_ + 1) > cells_.size()) grow();
  const std::size_t mask = cells_.size() - 1;
  std::size_t i = home(key);
  while (cells_[i].key != 0 && cells_[i].key != key) i = (i + 1) & mask;
  if (cells_[i].key == 0) ++size_;
  cells_[i] = Cell{key, slot};
}

void NeighbourTable::SlotIndex::erase(std::uint64_t key) {
  if (cells_.empty()) return;
  const std::size_t mask = cells_.size() - 1;
  std::size_t i = home(key);
  while (cells_[i].key != key) {
    if (cells_[i].key == 0) return;
    i = (i + 1) & mask;
  }
  // Backward shift: pull later cells of the run into the hole when their home allows it.
  std::size_t hole = i;
  for (std::size_t j = (i + 1) & mask; cells_[j].key != 0; j = (j + 1) & mask) {
    const std::size_t h = home(cells_[j].key);
    // Cell j must stay when its home lies in (hole, j] (cyclically): moving it would put it
    // before its home.
    const bool stays = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j);
    if (stays) continue;
    cells_[hole] = cells_[j];
    hole = j;
  }
  cells_[hole] = Cell{};
  --size_;
}

NeighbourTable::Slot& NeighbourTable::create(std::uint32_t ifindex, wire::Ipv4Address address,
                                             Time now) {
  // neigh_alloc + ___neigh_create: NUD_NONE, updated = used = now, confirmed long ago.
  auto [it, inserted] = entries_.try_emplace(key(ifindex, address));
  CALISIM_CHECK(inserted, "neighbour entry created twice");
  Slot& s = it->second;
  index_.insert(it->first, &s);
  s.e.ifindex = ifindex;
  s.e.address = address;
  s.e.updated = now;
  s.e.used = now;
  s.e.confirmed = now - params_.base_reachable_time * 2;
  if (heap_.capacity() < entries_.size()) heap_.reserve(2 * entries_.size());
  ++counters_.allocs;
  return s;
}

void NeighbourTable::destroy(std::uint64_t k) {
  auto it = entries_.find(k);
  if (it == entries_.end()) return;
  disarm(it->second);
  index_.erase(k);
  entries_.erase(it);
  ++counters_.destroys;
}

void NeighbourTable::set_state(Slot& s, NeighbourState state, Time now) {
  const std::optional<NeighbourState> from =
      s.none ? std::nullopt : std::optional<NeighbourState>(s.e.state);
  s.none = false;
  s.e.state = state;
  if (observer_ && from != state) observer_(s.e, from, now);
}

const NeighbourEntry* NeighbourTable::find(std::uint32_t ifindex,
                                           wire::Ipv4Address address) const {
  const Slot* slot = find_slot(key(ifindex, address));
  return slot == nullptr ? nullptr : &slot->e;
}

std::vector<NeighbourEntry> NeighbourTable::entries() const {
  std::vector<NeighbourEntry> out;
  out.reserve(entries_.size());
  for (const auto& [k, s] : entries_) out.push_back(s.e);
  std::sort(out.begin(), out.end(), [](const NeighbourEntry& a, const NeighbourEntry& b) {
    return key(a.ifindex, a.address) < key(b.ifindex, b.address);
  });
  return out;
}

Duration NeighbourTable::reachable_time_at(std::uint32_t ifindex, Time now) {
  // neigh_rand_reach_time: get_random_u32_below(base) + base/2, in jiffies (HZ=1000 here).
  auto draw = [this] {
    const auto base_ms = static_cast<std::uint64_t>(params_.base_reachable_time.ns() / 1'000'000);
    if (base_ms == 0) return Duration::zero();
    return Duration::milliseconds(static_cast<std::int64_t>(random_.uniform(base_ms) + base_ms / 2));
  };
  auto it = interfaces_.find(ifindex);
  if (it == interfaces_.end()) {
    it = interfaces_.emplace(ifindex, InterfaceParms{draw(), now}).first;
  } else if (now > it->second.drawn_at + kRedrawInterval) {
    it->second = InterfaceParms{draw(), now};
  }
  return it->second.reachable_time;
}

std::optional<Duration> NeighbourTable::reachable_time(std::uint32_t ifindex) const {
  auto it = interfaces_.find(ifindex);
  if (it == interfaces_.end()) return std::nullopt;
  return it->second.reachable_time;
}

// ---- probing --------------------------------------------------------------------------------

int NeighbourTable::max_probes(const Slot& s) const {  // neigh_max_probes
  return params_.ucast_solicit + params_.app_solicit +
         (s.e.state == NeighbourState::kProbe ? params_.mcast_resolicit : params_.mcast_solicit);
}

std::optional<SendArpRequest> NeighbourTable::probe(Slot& s) {
  // neigh_probe + arp_solicit: the counter picks unicast (below ucast_solicit), the user-space
  // daemon (the next app_solicit), else broadcast; the newest queued packet gives the source.
  const int counter = static_cast<int>(s.e.probes);
  ++s.e.probes;
  std::optional<SendArpRequest> request;
  if (counter < params_.ucast_solicit) {
    request = SendArpRequest{s.e.ifindex, s.e.address, s.e.mac, {}};
  } else if (counter - params_.ucast_solicit >= params_.app_solicit) {
    request = SendArpRequest{s.e.ifindex, s.e.address, std::nullopt, {}};
  }
  if (request && !s.queue.empty()) request->packet_source = s.queue.back().source;
  return request;
}

void NeighbourTable::start_incomplete(Slot& s, Time now) {
  // __neigh_event_send from NONE or FAILED, with immediate_ok: the request goes out at once and
  // the timer is armed one retrans_time later.
  s.e.probes = static_cast<std::uint32_t>(params_.ucast_solicit);
  disarm(s);
  set_state(s, NeighbourState::kIncomplete, now);
  s.e.updated = now;
  arm(s, now + std::max(params_.retrans_time, kMinTimer));
}

void NeighbourTable::note_sent(Slot& s, Time now) {
  // neigh_event_send: `used` moves on every slow-path send, and STALE becomes DELAY; the first
  // send also caches the Ethernet header (neigh_hh_init), after which CONNECTED entries take the
  // fast path and `used` stays put.
  s.e.used = now;
  s.hh_cached = true;
  if (s.e.state == NeighbourState::kStale) {
    disarm(s);
    set_state(s, NeighbourState::kDelay, now);
    s.e.updated = now;
    arm(s, now + params_.delay_first_probe_time);
  }
}

std::vector<wire::Packet> NeighbourTable::take_queue(Slot& s) {
  std::vector<wire::Packet> packets;
  packets.reserve(s.queue.size());
  for (auto& q : s.queue) packets.push_back(std::move(q.packet));
  s.queue.clear();
  s.e.queued_packets = 0;
  s.e.queued_bytes = 0;
  return packets;
}

// ---- the packet path ------------------------------------------------------------------------

Resolution NeighbourTable::resolve(std::uint32_t ifindex, wire::Ipv4Address next_hop, Time now,
                                   wire::Ipv4Address packet_source) {
  Slot* s = find_slot(key(ifindex, next_hop));
  if (s != nullptr) {
    switch (s->e.state) {
      case NeighbourState::kReachable:
      case NeighbourState::kNoarp:
      case NeighbourState::kPermanent:
        if (!s->hh_cached) note_sent(*s, now);  // neigh_output: hh fast path once cached
        return {Resolution::Kind::kResolved, s->e.mac, std::nullopt};
      case NeighbourState::kStale:
      case NeighbourState::kDelay:
      case NeighbourState::kProbe:
        note_sent(*s, now);
        return {Resolution::Kind::kResolved, s->e.mac, std::nullopt};
      case NeighbourState::kIncomplete:
        s->e.used = now;
        return {Resolution::Kind::kQueue, {}, std::nullopt};
      case NeighbourState::kFailed:
        break;  // tried again, as a new entry is
    }
  } else {
    s = &create(ifindex, next_hop, now);
  }
  s->e.used = now;
  if (params_.mcast_solicit + params_.app_solicit == 0) {
    // __neigh_event_send: nothing to ask with, so the entry fails and the packet is dropped.
    disarm(*s);
    set_state(*s, NeighbourState::kFailed, now);
    s->e.updated = now;
    return {Resolution::Kind::kFailed, {}, std::nullopt};
  }
  start_incomplete(*s, now);
  std::optional<SendArpRequest> request = probe(*s);
  if (request) request->packet_source = packet_source;  // the packet about to be queued
  return {Resolution::Kind::kQueue, {}, request};
}

std::vector<wire::Packet> NeighbourTable::enqueue(std::uint32_t ifindex,
                                                  wire::Ipv4Address next_hop, wire::Packet packet,
                                                  wire::Ipv4Address packet_source) {
  auto it = entries_.find(key(ifindex, next_hop));
  CALISIM_CHECK(it != entries_.end() && it->second.e.state == NeighbourState::kIncomplete,
                "enqueue on a neighbour that is not INCOMPLETE (call it right after resolve)");
  Slot& s = it->second;
  const std::size_t charge = packet.size() + params_.skb_overhead_bytes;
  // __neigh_event_send: drop from the head until the new packet fits, or the queue is empty.
  std::vector<wire::Packet> dropped;
  std::size_t drop = 0;
  std::size_t bytes = s.e.queued_bytes;
  while (drop < s.queue.size() && bytes + charge > params_.unres_qlen_bytes) {
    bytes -= s.queue[drop].charge;
    ++drop;
  }
  if (drop > 0) {
    dropped.reserve(drop);
    for (std::size_t i = 0; i < drop; ++i) dropped.push_back(std::move(s.queue[i].packet));
    s.queue.erase(s.queue.begin(), s.queue.begin() + static_cast<std::ptrdiff_t>(drop));
    counters_.unres_discards += drop;
  }
  s.queue.push_back(QueuedPacket{std::move(packet), packet_source, charge});
  s.e.queued_bytes = bytes + charge;
  s.e.queued_packets = s.queue.size();
  return dropped;
}

// ---- updates --------------------------------------------------------------------------------

ReleasedPackets NeighbourTable::update(Slot& s, wire::MacAddress mac, NeighbourState state,
                                       bool override, bool admin, Time now) {
  // __neigh_update for a supplied MAC and a valid new state.
  ReleasedPackets released{s.e.ifindex, s.e.address, s.e.mac, {}};
  const NeighbourState old = s.e.state;  // meaningless while s.none (NUD_NONE)
  const bool old_valid = !s.none && is_valid(old);
  if (!admin && !s.none && (old == NeighbourState::kNoarp || old == NeighbourState::kPermanent)) {
    return released;
  }
  const bool same_mac = old_valid && mac == s.e.mac;
  if (is_connected(state)) s.e.confirmed = now;
  NeighbourState next = state;
  if (old_valid) {
    if (!same_mac && !override) return released;  // "use the FIRST reply" within locktime
    if (same_mac && next == NeighbourState::kStale && !admin) next = old;
  }
  const bool changed = s.none || next != old;
  if (changed || !same_mac) s.e.updated = now;
  if (changed) {
    disarm(s);
    if (next == NeighbourState::kProbe) s.e.probes = 0;
    set_state(s, next, now);
    if (in_timer(next)) {
      const Duration delay =
          next == NeighbourState::kReachable ? reachable_time_at(s.e.ifindex, now) : Duration::zero();
      arm(s, now + delay);
    }
  }
  if (!same_mac) {
    s.e.mac = mac;
    if (!is_connected(next)) s.e.confirmed = now - params_.base_reachable_time * 2;
  }
  released.mac = s.e.mac;
  if (!changed || old_valid) return released;
  // Newly valid: the queue goes out through the entry's output, oldest first.
  if (!s.queue.empty()) {
    released.packets = take_queue(s);
    note_sent(s, now);
  }
  return released;
}

ReleasedPackets NeighbourTable::on_arp(const ArpReceived& arp, Time now) {
  ReleasedPackets none{arp.ifindex, arp.sender_ip, arp.sender_mac, {}};
  if (arp.sender_ip.is_unspecified()) return none;  // RFC 5227 probe: answered, never learnt
  Slot* found = find_slot(key(arp.ifindex, arp.sender_ip));
  if (arp.receipt == ArpReceipt::kRequestAnswered) {
    // neigh_event_ns: create if needed, STALE with override.
    Slot& s = found != nullptr ? *found : create(arp.ifindex, arp.sender_ip, now);
    return update(s, arp.sender_mac, NeighbourState::kStale, true, false, now);
  }
  if (found == nullptr) return none;  // arp_accept = 0: unsolicited ARP creates nothing
  Slot& s = *found;
  const bool override = now > s.e.updated + params_.locktime || arp.gratuitous;
  // "Broadcast replies and request packets do not assert neighbour reachability."
  const NeighbourState state =
      arp.receipt == ArpReceipt::kReplyToUs ? NeighbourState::kReachable : NeighbourState::kStale;
  return update(s, arp.sender_mac, state, override, false, now);
}

void NeighbourTable::confirm(std::uint32_t ifindex, wire::Ipv4Address address, Time now) {
  if (Slot* s = find_slot(key(ifindex, address))) s->e.confirmed = now;  // neigh_confirm
}

Result<ReleasedPackets> NeighbourTable::replace(std::uint32_t ifindex, wire::Ipv4Address address,
                                                wire::MacAddress mac, NeighbourState state,
                                                Time now, bool router) {
  if (state != NeighbourState::kPermanent && state != NeighbourState::kNoarp &&
      state != NeighbourState::kReachable && state != NeighbourState::kStale) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("neighbour {}: cannot set nud {} by hand (permanent, noarp, "
                                  "reachable or stale)",
                                  address, to_string(state)));
  }
  auto it = entries_.find(key(ifindex, address));
  Slot& s = it != entries_.end() ? it->second : create(ifindex, address, now);
  s.e.router = router;  // NEIGH_UPDATE_F_OVERRIDE_ISROUTER
  return update(s, mac, state, true, true, now);
}

ReleasedPackets NeighbourTable::add_permanent(std::uint32_t ifindex, wire::Ipv4Address address,
                                              wire::MacAddress mac, Time now) {
  return *replace(ifindex, address, mac, NeighbourState::kPermanent, now);
}

ReleasedPackets NeighbourTable::add_noarp(std::uint32_t ifindex, wire::Ipv4Address address,
                                          wire::MacAddress mac, Time now) {
  return *replace(ifindex, address, mac, NeighbourState::kNoarp, now);
}

Result<std::vector<wire::Packet>> NeighbourTable::remove(std::uint32_t ifindex,
                                                         wire::Ipv4Address address) {
  const std::uint64_t k = key(ifindex, address);
  auto it = entries_.find(k);
  if (it == entries_.end()) {
    return make_error(Errc::kNotFound,
                      fmt::format("neighbour {} on ifindex {}: no such entry", address, ifindex));
  }
  // neigh_delete: neigh_update(FAILED, ADMIN) invalidates an INCOMPLETE entry's queue
  // (arp_error_report for each packet), then the entry goes.
  std::vector<wire::Packet> failed;
  if (it->second.e.state == NeighbourState::kIncomplete) {
    failed = take_queue(it->second);
    if (!failed.empty()) ++counters_.res_failed;
  }
  destroy(k);
  return failed;
}

std::vector<NeighbourFailed> NeighbourTable::flush(std::uint32_t ifindex) {
  // iproute2 lists the entries (filter ~(PERMANENT|NOARP)) and deletes each: in key order here.
  std::vector<std::uint64_t> keys;
  for (const auto& [k, s] : entries_) {
    if (ifindex != 0 && s.e.ifindex != ifindex) continue;
    if (s.e.state == NeighbourState::kPermanent || s.e.state == NeighbourState::kNoarp) continue;
    keys.push_back(k);
  }
  std::sort(keys.begin(), keys.end());
  std::vector<NeighbourFailed> out;
  for (std::uint64_t k : keys) {
    const Slot& s = entries_.at(k);
    const std::uint32_t dev = s.e.ifindex;
    const wire::Ipv4Address address = s.e.address;
    auto failed = remove(dev, address);
    if (failed && !failed->empty()) out.push_back({dev, address, std::move(*failed)});
  }
  return out;
}

std::vector<wire::Packet> NeighbourTable::device_down(std::uint32_t ifindex) {
  // neigh_ifdown: neigh_flush_dev (PERMANENT too; queues purged without error reports) and
  // pneigh_ifdown. The device's neigh_parms (its reachable_time) stay: the device still exists.
  std::vector<std::uint64_t> keys;
  for (const auto& [k, s] : entries_) {
    if (s.e.ifindex == ifindex) keys.push_back(k);
  }
  std::sort(keys.begin(), keys.end());
  std::vector<wire::Packet> dropped;
  for (std::uint64_t k : keys) {
    auto packets = take_queue(entries_.at(k));
    std::move(packets.begin(), packets.end(), std::back_inserter(dropped));
    destroy(k);
  }
  std::erase_if(proxies_, [ifindex](std::uint64_t k) { return (k >> 32) == ifindex; });
  return dropped;
}

// ---- proxy entries --------------------------------------------------------------------------

void NeighbourTable::add_proxy(std::uint32_t ifindex, wire::Ipv4Address address) {
  proxies_.insert(key(ifindex, address));
}

Result<void> NeighbourTable::remove_proxy(std::uint32_t ifindex, wire::Ipv4Address address) {
  if (proxies_.erase(key(ifindex, address)) == 0) {
    return make_error(Errc::kNotFound, fmt::format("proxy neighbour {} on ifindex {}: no such "
                                                   "entry",
                                                   address, ifindex));
  }
  return {};
}

bool NeighbourTable::is_proxied(std::uint32_t ifindex, wire::Ipv4Address address) const {
  return proxies_.contains(key(ifindex, address));
}

std::vector<std::pair<std::uint32_t, wire::Ipv4Address>> NeighbourTable::proxies() const {
  std::vector<std::pair<std::uint32_t, wire::Ipv4Address>> out;
  out.reserve(proxies_.size());
  for (std::uint64_t k : proxies_) {
    out.emplace_back(static_cast<std::uint32_t>(k >> 32),
                     wire::Ipv4Address(static_cast<std::uint32_t>(k)));
  }
  return out;
}

// ---- timers ---------------------------------------------------------------------------------

void NeighbourTable::timer(Slot& s, Time now, std::vector<NeighbourAction>& out) {
  // neigh_timer_handler.
  Time next = now + Duration::seconds(1);
  switch (s.e.state) {
    case NeighbourState::kReachable: {
      const Duration reachable = reachable_time_at(s.e.ifindex, now);
      if (now <= s.e.confirmed + reachable) {
        next = s.e.confirmed + reachable;  // still alive
      } else if (now <= s.e.used + params_.delay_first_probe_time) {
        set_state(s, NeighbourState::kDelay, now);
        s.e.updated = now;
        next = now + params_.delay_first_probe_time;
      } else {
        set_state(s, NeighbourState::kStale, now);
        s.e.updated = now;
      }
      break;
    }
    case NeighbourState::kDelay:
      if (now <= s.e.confirmed + params_.delay_first_probe_time) {
        set_state(s, NeighbourState::kReachable, now);
        s.e.updated = now;
        next = s.e.confirmed + reachable_time_at(s.e.ifindex, now);
      } else {
        set_state(s, NeighbourState::kProbe, now);
        s.e.updated = now;
        s.e.probes = 0;
        next = now + std::max(params_.retrans_time, kMinTimer);
      }
      break;
    case NeighbourState::kIncomplete:
    case NeighbourState::kProbe:
      next = now + std::max(params_.retrans_time, kMinTimer);
      break;
    default:
      return;  // not a timed state (cannot happen: leaving one disarms)
  }

  const bool probing =
      s.e.state == NeighbourState::kIncomplete || s.e.state == NeighbourState::kProbe;
  if (probing && static_cast<int>(s.e.probes) >= max_probes(s)) {
    // neigh_invalidate: every queued packet gets arp_error_report.
    set_state(s, NeighbourState::kFailed, now);
    s.e.updated = now;
    ++counters_.res_failed;
    out.emplace_back(NeighbourFailed{s.e.ifindex, s.e.address, take_queue(s)});
    return;
  }
  if (in_timer(s.e.state)) arm(s, std::max(next, now + kMinTimer));
  if (probing) {
    if (auto request = probe(s)) out.emplace_back(*request);
  }
}

std::vector<NeighbourAction> NeighbourTable::poll(Time now) {
  std::vector<NeighbourAction> out;
  while (!heap_.empty() && heap_.front()->deadline <= now) {
    Slot& s = *heap_.front();
    disarm(s);
    timer(s, now, out);
  }
  if (now >= next_gc_) {
    if (entries_.size() >= params_.gc_thresh1) collect_garbage(now);
    // neigh_periodic_work runs every base_reachable_time/2; slots counted from time zero.
    const Duration period = std::max(params_.base_reachable_time / 2, kMinTimer);
    next_gc_ = Time::zero() + period * (now.ns() / period.ns() + 1);
  }
  return out;
}

void NeighbourTable::collect_garbage(Time now) {
  // neigh_periodic_work: PERMANENT and timed entries stay; FAILED ones and ones unused for
  // gc_stale_time go (`used` first catches up with `confirmed`).
  ++counters_.periodic_gc_runs;
  std::vector<std::uint64_t> doomed;
  for (auto& [k, s] : entries_) {
    if (s.e.state == NeighbourState::kPermanent || in_timer(s.e.state)) continue;
    if (s.e.used < s.e.confirmed && s.e.confirmed <= now) s.e.used = s.e.confirmed;
    const bool fresh = now >= s.e.used && now < s.e.used + params_.gc_stale_time;
    if (s.e.state == NeighbourState::kFailed || !fresh) doomed.push_back(k);
  }
  for (std::uint64_t k : doomed) destroy(k);
}

Time NeighbourTable::next_deadline() const {
  Time t = heap_.empty() ? Time::max() : heap_.front()->deadline;
  if (entries_.size() >= params_.gc_thresh1) t = std::min(t, next_gc_);
  return t;
}

// ---- timer heap -----------------------------------------------------------------------------

bool NeighbourTable::earlier(const Slot* a, const Slot* b) const {
  if (a->deadline != b->deadline) return a->deadline < b->deadline;
  return key(a->e.ifindex, a->e.address) < key(b->e.ifindex, b->e.address);
}

void NeighbourTable::heap_place(std::size_t pos, Slot* s) {
  heap_[pos] = s;
  s->heap_pos = pos;
}

void NeighbourTable::sift_up(std::size_t pos) {
  Slot* s = heap_[pos];
  while (pos > 0) {
    const std::size_t parent = (pos - 1) / 2;
    if (!earlier(s, heap_[parent])) break;
    heap_place(pos, heap_[parent]);
    pos = parent;
  }
  heap_place(pos, s);
}

void NeighbourTable::sift_down(std::size_t pos) {
  Slot* s = heap_[pos];
  const std::size_t n = heap_.size();
  while (true) {
    std::size_t child = 2 * pos + 1;
    if (child >= n) break;
    if (child + 1 < n && earlier(heap_[child + 1], heap_[child])) ++child;
    if (!earlier(heap_[child], s)) break;
    heap_place(pos, heap_[child]);
    pos = child;
  }
  heap_place(pos, s);
}

void NeighbourTable::arm(Slot& s, Time when) {
  if (s.heap_pos != kNotInHeap) {
    const Time old = s.deadline;
    s.deadline = when;
    if (when < old) {
      sift_up(s.heap_pos);
    } else {
      sift_down(s.heap_pos);
    }
    return;
  }
  s.deadline = when;
  heap_.push_back(&s);  // capacity reserved in create(): no allocation
  s.heap_pos = heap_.size() - 1;
  sift_up(s.heap_pos);
}

void NeighbourTable::disarm(Slot& s) {
  if (s.heap_pos == kNotInHeap) return;
  const std::size_t pos = s.heap_pos;
  Slot* last = heap_.back();
  heap_.pop_back();
  s.heap_pos = kNotInHeap;
  s.deadline = Time::max();
  if (last == &s) return;
  heap_place(pos, last);
  sift_down(pos);
  sift_up(last->heap_pos);
}

// ---- view -----------------------------------------------------------------------------------

namespace {

std::string device_name(const DeviceNameFn& names, std::uint32_t ifindex) {
  std::string name = names ? names(ifindex) : std::string();
  if (name.empty()) name = fmt::format("if{}", ifindex);  // ll_index_to_name
  return name;
}

}  // namespace

std::string ip_neigh_show(const NeighbourTable& table, const DeviceNameFn& names,
                          const NeighShowOptions& options) {
  std::string out;
  auto it = std::back_inserter(out);
  if (options.proxy) {
    // pneigh_fill_info: no state, no lladdr, flags NTF_PROXY.
    for (const auto& [ifindex, address] : table.proxies()) {
      if (options.dev != 0 && ifindex != options.dev) continue;
      fmt::format_to(it, "{} ", address);
      if (options.dev == 0) fmt::format_to(it, "dev {} ", device_name(names, ifindex));
      fmt::format_to(it, "proxy \n");
    }
    return out;
  }
  for (const NeighbourEntry& e : table.entries()) {
    if (options.dev != 0 && e.ifindex != options.dev) continue;
    if (!options.all && e.state == NeighbourState::kNoarp) continue;  // 0xFF & ~NUD_NOARP
    fmt::format_to(it, "{} ", e.address);
    if (options.dev == 0) fmt::format_to(it, "dev {} ", device_name(names, e.ifindex));
    if (is_valid(e.state)) fmt::format_to(it, "lladdr {} ", e.mac);
    if (e.router) fmt::format_to(it, "router ");
    fmt::format_to(it, "{} \n", to_string(e.state));
  }
  return out;
}

}  // namespace calisim::dataplane
