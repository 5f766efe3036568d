#include <calisim/bgp/rib.hpp>

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <utility>

#include <calisim/sim/result.hpp>

namespace calisim::bgp {

using wire::Ipv4Address;
using wire::Ipv4Prefix;
using wire::bgp::AsPathSegmentType;
using wire::bgp::Origin;
using wire::bgp::PathAttributes;

namespace {

constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint32_t kAsPathMaxLen = 10000;  // BIRD's AS_PATH_MAXLEN: a missing AS_PATH loses

std::uint64_t mix(std::uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::uint64_t prefix_key(const Ipv4Prefix& p) {
  return (std::uint64_t{p.network().value()} << 8) | p.length();
}

bool prefix_less(const Ipv4Prefix& a, const Ipv4Prefix& b) {
  if (a.address() != b.address()) return a.address() < b.address();
  return a.length() < b.length();
}

// ---- attribute sets ---------------------------------------------------------------------------

// What bgp_rte_better reads, taken out of the attribute set once when it is interned.
struct DecisionKey {
  std::optional<std::uint32_t> local_pref;
  std::optional<std::uint32_t> med;
  std::optional<std::uint32_t> originator;
  std::optional<std::uint32_t> first_as;  // as_path_get_first_regular
  std::uint32_t path_length = kAsPathMaxLen;
  std::uint32_t cluster_length = 0;
  std::uint8_t origin = 2;  // a missing ORIGIN counts as INCOMPLETE
};

DecisionKey decision_key(const PathAttributes& a) {
  DecisionKey k;
  k.local_pref = a.local_pref;
  k.med = a.multi_exit_disc;
  if (a.originator_id) k.originator = a.originator_id->value();
  if (a.as_path) {
    k.path_length = static_cast<std::uint32_t>(a.as_path->path_length());
    // nest/a-path.c as_path_get_first_regular: the first AS of a leading sequence; confederation
    // segments skipped; a set or an empty sequence first means none.
    for (const auto& s : a.as_path->segments) {
      if (s.type == AsPathSegmentType::kAsConfedSequence || s.type == AsPathSegmentType::kAsConfedSet) continue;
      if (s.type == AsPathSegmentType::kAsSequence && !s.as_numbers.empty()) k.first_as = s.as_numbers.front();
      break;
    }
  }
  k.cluster_length = static_cast<std::uint32_t>(a.cluster_list.size());
  if (a.origin) k.origin = static_cast<std::uint8_t>(*a.origin);
  return k;
}

std::uint64_t hash_attributes(const PathAttributes& a) {
  std::uint64_t h = 0x51ed270b27a1f2c3ull;
  auto add = [&h](std::uint64_t v) { h = mix(h ^ v); };
  add(a.origin ? 1 + static_cast<std::uint64_t>(*a.origin) : 0);
  if (a.as_path) {
    add(0xa5);
    for (const auto& s : a.as_path->segments) {
      add(static_cast<std::uint64_t>(s.type) << 32 | s.as_numbers.size());
      for (std::uint32_t n : s.as_numbers) add(n);
    }
  }
  add(a.next_hop ? (std::uint64_t{1} << 32) | a.next_hop->value() : 0);
  add(a.multi_exit_disc ? (std::uint64_t{1} << 32) | *a.multi_exit_disc : 0);
  add(a.local_pref ? (std::uint64_t{1} << 32) | *a.local_pref : 0);
  add(a.atomic_aggregate);
  if (a.aggregator) add(std::uint64_t{a.aggregator->as_number} << 32 | a.aggregator->address.value());
  for (std::uint32_t c : a.communities) add(c);
  add(a.originator_id ? (std::uint64_t{1} << 32) | a.originator_id->value() : 0);
  for (const auto& id : a.cluster_list) add(id.value());
  for (const auto& raw : a.unknown) {
    add(std::uint64_t{raw.flags} << 8 | raw.type);
    for (std::uint8_t b : raw.value) add(b);
  }
  add(a.mp_reach.has_value() * 2 + a.mp_unreach.has_value());
  return h;
}

// Interned, reference-counted attribute sets (BIRD's rta cache, nest/rt-attr.c rta_lookup).
class AttrStore {
 public:
  // The id of an equal set, or of a new one; either way one more reference.
  std::uint32_t intern(PathAttributes attrs) {
    std::uint64_t h = hash_attributes(attrs);
    if (slots_.empty()) slots_.assign(1024, kNone);
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      std::uint32_t id = slots_[i];
      if (id == kNone) break;
      Entry& e = entries_[id];
      if (e.hash == h && e.attrs == attrs) {
        ++e.refs;
        return id;
      }
    }
    std::uint32_t id;
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
    } else {
      id = static_cast<std::uint32_t>(entries_.size());
      entries_.emplace_back();
    }
    Entry& e = entries_[id];
    e.key = decision_key(attrs);
    e.attrs = std::move(attrs);
    e.hash = h;
    e.refs = 1;
    insert_slot(id);
    if (++used_ * 2 > slots_.size()) grow();
    return id;
  }
  void ref(std::uint32_t id) { ++entries_[id].refs; }
  void unref(std::uint32_t id) {
    if (id == kNone) return;
    Entry& e = entries_[id];
    CALISIM_CHECK(e.refs > 0, "attribute set released more often than taken");
    if (--e.refs > 0) return;
    erase_slot(id);
    e.attrs = PathAttributes{};
    free_.push_back(id);
    --used_;
  }
  const PathAttributes& get(std::uint32_t id) const { return entries_[id].attrs; }
  const DecisionKey& key(std::uint32_t id) const { return entries_[id].key; }
  std::size_t live() const { return used_; }

 private:
  struct Entry {
    PathAttributes attrs;
    DecisionKey key;
    std::uint64_t hash = 0;
    std::uint32_t refs = 0;
  };
  void insert_slot(std::uint32_t id) {
    std::size_t mask = slots_.size() - 1;
    std::size_t i = entries_[id].hash & mask;
    while (slots_[i] != kNone) i = (i + 1) & mask;
    slots_[i] = id;
  }
  void erase_slot(std::uint32_t id) {  // backward-shift deletion: no tombstones
    std::size_t mask = slots_.size() - 1;
    std::size_t i = entries_[id].hash & mask;
    while (slots_[i] != id) i = (i + 1) & mask;
    for (std::size_t j = (i + 1) & mask; slots_[j] != kNone; j = (j + 1) & mask) {
      std::size_t home = entries_[slots_[j]].hash & mask;
      // Move slots_[j] into the hole at i when its home is not within (i, j].
      if (((j - home) & mask) >= ((j - i) & mask)) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = kNone;
  }
  void grow() {
    std::vector<std::uint32_t> old = std::move(slots_);
    slots_.assign(old.size() * 2, kNone);
    for (std::uint32_t id : old) {
      if (id != kNone) insert_slot(id);
    }
  }
  std::vector<Entry> entries_;
  std::vector<std::uint32_t> free_;
  std::vector<std::uint32_t> slots_;
  std::size_t used_ = 0;
};

// prefix -> net slot; nets are never removed (BIRD's nets outlive their routes too).
class PrefixIndex {
 public:
  std::uint32_t find(std::uint64_t key) const {
    if (slots_.empty()) return kNone;
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = mix(key) & mask;; i = (i + 1) & mask) {
      if (slots_[i].value == kNone) return kNone;
      if (slots_[i].key == key) return slots_[i].value;
    }
  }
  void insert(std::uint64_t key, std::uint32_t value) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    place(key, value);
    ++size_;
  }

 private:
  struct Slot {
    std::uint64_t key = 0;
    std::uint32_t value = kNone;
  };
  void place(std::uint64_t key, std::uint32_t value) {
    std::size_t mask = slots_.size() - 1;
    std::size_t i = mix(key) & mask;
    while (slots_[i].value != kNone) i = (i + 1) & mask;
    slots_[i] = Slot{key, value};
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, Slot{});
    for (const Slot& s : old) {
      if (s.value != kNone) place(s.key, s.value);
    }
  }
  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

// A set of net slots marked for a consumer, each once.
struct DirtySet {
  std::vector<std::uint8_t> flag;
  std::vector<std::uint32_t> list;
  void mark(std::uint32_t net) {
    if (net >= flag.size()) flag.resize(std::max<std::size_t>(net + 1, flag.size() * 2), 0);
    if (!flag[net]) {
      flag[net] = 1;
      list.push_back(net);
    }
  }
  void clear() {
    for (std::uint32_t n : list) flag[n] = 0;
    list.clear();
  }
};

}  // namespace

std::uint32_t default_preference(RouteSource source) {
  switch (source) {
    case RouteSource::kStatic: return kPreferenceStatic;
    case RouteSource::kInherit: return kPreferenceInherit;
    case RouteSource::kDevice: return kPreferenceDirect;
    case RouteSource::kBgp: return kPreferenceBgp;
  }
  return 0;
}

std::string_view to_string(ImportResult result) {
  switch (result) {
    case ImportResult::kAccepted: return "accepted";
    case ImportResult::kFiltered: return "filtered";
    case ImportResult::kLoop: return "loop";
  }
  return "?";
}

std::size_t PeerUpdate::announced_count() const {
  std::size_t n = 0;
  for (const Group& g : announced) n += g.prefixes.size();
  return n;
}

// ---- the table -----------------------------------------------------------------------------------

struct Rib::Impl {
  struct ExportKey {
    std::uint32_t attrs;
    std::uint32_t source;
    std::uint32_t iface;
    std::uint32_t out;
  };
  struct Source {
    std::string name;
    RouteSource kind = RouteSource::kStatic;
    std::uint32_t preference = 0;
    bool is_peer = false;
    PeerConfig peer;
    bool internal = false;
    std::optional<std::uint32_t> cluster_id;  // rr clients only (bgp_start)
    bool up = false;
    Ipv4Address remote_id;
    std::size_t routes = 0;
    // Export side (peers).
    std::vector<std::uint32_t> adj_out;  // per net: attribute set last sent, kNone = nothing
    std::size_t adj_out_count = 0;
    DirtySet dirty;
    // (route attribute set, source, device) -> attribute set sent; both sets referenced.
    std::unordered_map<std::uint64_t, std::uint32_t> export_cache;
    std::vector<ExportKey> export_keys;
  };
  struct Route {
    std::uint32_t next = kNone;
    std::uint32_t source = 0;
    std::uint32_t attrs = kNone;  // BGP: attribute set; local: index into local_routes
    std::uint32_t iface = kNone;  // BGP: resolved device
    std::uint32_t via = 0;        // BGP: resolved gateway when not the next hop itself
    std::int64_t lastmod_ns = 0;
    RouteDest dest = RouteDest::kUnicast;
    bool stale = false;
  };
  struct Net {
    Ipv4Prefix prefix;
    std::uint32_t head = kNone;
  };
  // A route about to enter the table.
  struct Candidate {
    std::uint32_t attrs = kNone;
    std::uint32_t iface = kNone;
    std::uint32_t via = 0;
    RouteDest dest = RouteDest::kUnicast;
    const LocalRoute* local = nullptr;
  };

  RibConfig config;
  Time now;
  std::vector<Source> sources;
  std::vector<std::uint32_t> drain_scratch;  // Rib::drain's working list
  std::optional<std::uint32_t> default_static;
  AttrStore store;
  std::vector<Net> nets;
  PrefixIndex net_index_map;
  std::vector<Route> routes;
  std::vector<std::uint32_t> free_routes;
  std::vector<LocalRoute> local_routes;
  std::vector<std::uint32_t> free_local;
  std::vector<std::string> ifaces;
  std::unordered_map<std::string, std::uint32_t> iface_ids;
  std::vector<DirtySet> subscribers;
  std::size_t route_count = 0;
  std::size_t nonempty_nets = 0;

  explicit Impl(RibConfig c) : config(std::move(c)) {}

  Source& source(SourceId id) {
    auto i = static_cast<std::uint32_t>(id);
    CALISIM_CHECK(i < sources.size(), "unknown SourceId");
    return sources[i];
  }
  const Source& source(SourceId id) const {
    auto i = static_cast<std::uint32_t>(id);
    CALISIM_CHECK(i < sources.size(), "unknown SourceId");
    return sources[i];
  }
  Source& peer(SourceId id) {
    Source& s = source(id);
    CALISIM_CHECK(s.is_peer, "SourceId is not a BGP peer");
    return s;
  }

  std::uint32_t iface_id(std::string_view name) {
    if (name.empty()) return kNone;
    auto it = iface_ids.find(std::string(name));
    if (it != iface_ids.end()) return it->second;
    auto id = static_cast<std::uint32_t>(ifaces.size());
    ifaces.emplace_back(name);
    iface_ids.emplace(std::string(name), id);
    return id;
  }
  std::string_view iface_name(std::uint32_t id) const {
    return id == kNone ? std::string_view{} : std::string_view(ifaces[id]);
  }

  std::uint32_t find_net(const Ipv4Prefix& p) const { return net_index_map.find(prefix_key(p)); }
  std::uint32_t get_net(const Ipv4Prefix& p) {
    std::uint64_t key = prefix_key(p);
    std::uint32_t n = net_index_map.find(key);
    if (n != kNone) return n;
    n = static_cast<std::uint32_t>(nets.size());
    nets.push_back(Net{Ipv4Prefix(p.network(), p.length()), kNone});
    net_index_map.insert(key, n);
    return n;
  }

  // ---- decision (nest/rt-table.c rte_better, proto/bgp/attrs.c bgp_rte_better) ----------------

  std::uint32_t neighbor_as(const DecisionKey& k) const {  // bgp_get_neighbor
    return k.first_as ? *k.first_as : config.local_as;
  }

  bool bgp_better(const Route& n, const Route& o) const {
    const Source& ns = sources[n.source];
    const Source& os = sources[o.source];
    const DecisionKey& nk = store.key(n.attrs);
    const DecisionKey& ok = store.key(o.attrs);
    // RFC 4271 9.1.2.1: a route whose next hop resolves beats one whose does not.
    bool nr = n.dest == RouteDest::kUnicast;
    bool orr = o.dest == RouteDest::kUnicast;
    if (nr != orr) return nr;
    std::uint32_t a = nk.local_pref.value_or(config.default_local_pref);
    std::uint32_t b = ok.local_pref.value_or(config.default_local_pref);
    if (a != b) return a > b;
    if (config.compare_path_lengths && nk.path_length != ok.path_length) return nk.path_length < ok.path_length;
    if (nk.origin != ok.origin) return nk.origin < ok.origin;
    if (config.med_metric || neighbor_as(nk) == neighbor_as(ok)) {
      a = nk.med.value_or(config.default_med);
      b = ok.med.value_or(config.default_med);
      if (a != b) return a < b;
    }
    if (ns.internal != os.internal) return !ns.internal;  // 9.1.2.2 d: external first
    // 9.1.2.2 e: IGP metric to the next hop. Every next hop costs the same here.
    // 9.1.2.2 f with RFC 4456 §9: ORIGINATOR_ID stands in for the neighbour's router id.
    a = nk.originator.value_or(ns.remote_id.value());
    b = ok.originator.value_or(os.remote_id.value());
    if (a != b) return a < b;
    if (nk.cluster_length != ok.cluster_length) return nk.cluster_length < ok.cluster_length;
    return ns.peer.address < os.peer.address;  // 9.1.2.2 g
  }

  bool better(const Route& n, const Route& o) const {
    const Source& ns = sources[n.source];
    const Source& os = sources[o.source];
    if (ns.preference != os.preference) return ns.preference > os.preference;
    // Equal preferences from protocols of different kinds: BIRD compares its protocol class
    // pointers only to keep the order unambiguous; calisim orders the kinds instead.
    if (ns.kind != os.kind) return ns.kind > os.kind;
    if (ns.kind == RouteSource::kBgp) return bgp_better(n, o);
    return false;  // static, kernel and direct routes have no rte_better hook
  }
  bool better_than(const Candidate& c, std::uint32_t source_index, std::uint32_t old_best) const {
    if (old_best == kNone) return true;
    Route tmp;
    tmp.source = source_index;
    tmp.attrs = c.attrs;
    tmp.dest = c.dest;
    return better(tmp, routes[old_best]);
  }

  bool same(const Route& r, const Candidate& c) const {
    if (r.dest != c.dest || r.iface != c.iface || r.via != c.via) return false;
    if (c.local) return local_routes[r.attrs] == *c.local;
    return r.attrs == c.attrs;
  }

  std::uint32_t alloc_route() {
    if (!free_routes.empty()) {
      std::uint32_t r = free_routes.back();
      free_routes.pop_back();
      routes[r] = Route{};
      return r;
    }
    routes.emplace_back();
    return static_cast<std::uint32_t>(routes.size() - 1);
  }
  void free_route(std::uint32_t r) {
    Route& route = routes[r];
    if (sources[route.source].is_peer) {
      store.unref(route.attrs);
    } else {
      local_routes[route.attrs] = LocalRoute{};
      free_local.push_back(route.attrs);
    }
    free_routes.push_back(r);
  }
  std::uint32_t& link_after(Net& net, std::uint32_t pred) {
    return pred == kNone ? net.head : routes[pred].next;
  }

  // Peers with marks since the last take_pending_peers (flag per source index).
  std::vector<std::uint32_t> pending_peers;
  std::vector<std::uint8_t> pending_flag;
  void mark_pending(std::uint32_t source_index) {
    if (source_index >= pending_flag.size()) pending_flag.resize(source_index + 1, 0);
    if (pending_flag[source_index]) return;
    pending_flag[source_index] = 1;
    pending_peers.push_back(source_index);
  }

  void mark_changed(std::uint32_t net) {
    const Route* best = nets[net].head == kNone ? nullptr : &routes[nets[net].head];
    for (std::uint32_t i = 0; i < sources.size(); ++i) {
      Source& s = sources[i];
      if (!s.is_peer || !s.up) continue;
      // Nothing was sent to the peer for this net and bgp_preexport refuses the new best route
      // (iBGP split horizon in a full mesh: every route from one mesh peer, for every other),
      // or there is none: drain() would compute "nothing" again. Not marking it keeps a change
      // from costing a visit to every peer.
      if ((net >= s.adj_out.size() || s.adj_out[net] == kNone) &&
          (best == nullptr || !preexport(s, i, *best))) {
        continue;
      }
      s.dirty.mark(net);
      mark_pending(i);
    }
    for (DirtySet& d : subscribers) d.mark(net);
  }

  // nest/rt-table.c rte_recalculate for unsorted tables: the route of `source` in the net is
  // replaced by `cand` (or removed when null). Returns true when the best route changed.
  bool recalculate(std::uint32_t net_index, std::uint32_t source_index, const Candidate* cand) {
    // Take the new route's slot first: growing the pool must not move links we hold.
    std::uint32_t fresh = kNone;
    Net& net = nets[net_index];
    std::uint32_t old_best = net.head;
    std::uint32_t old = kNone;
    std::uint32_t pred = kNone;  // the route before `old`, or the last route
    for (std::uint32_t r = net.head; r != kNone; r = routes[r].next) {
      if (routes[r].source == source_index) {
        old = r;
        break;
      }
      pred = r;
    }
    if (old != kNone && cand && same(routes[old], *cand)) {
      routes[old].stale = false;  // "No changes, ignore the new route and refresh the old one"
      if (!cand->local) store.unref(cand->attrs);
      return false;
    }
    if (old == kNone && !cand) return false;
    if (cand) {
      fresh = alloc_route();
      Route& nr = routes[fresh];
      nr.source = source_index;
      nr.dest = cand->dest;
      nr.iface = cand->iface;
      nr.via = cand->via;
      nr.lastmod_ns = now.ns();
      if (cand->local) {
        std::uint32_t slot;
        if (!free_local.empty()) {
          slot = free_local.back();
          free_local.pop_back();
        } else {
          slot = static_cast<std::uint32_t>(local_routes.size());
          local_routes.emplace_back();
        }
        local_routes[slot] = *cand->local;
        nr.attrs = slot;
      } else {
        nr.attrs = cand->attrs;  // the candidate's reference moves to the route
      }
    }
    if (old != kNone) link_after(net, pred) = routes[old].next;  // unlink the replaced route

    if (fresh != kNone && (old_best == kNone || better(routes[fresh], routes[old_best]))) {
      // "the new route is clearly optimal, we link it at the first position"
      routes[fresh].next = net.head;
      net.head = fresh;
    } else if (old != kNone && old == old_best) {
      // "the old best route disappeared": add the new one where the old one was, then elect
      // the best and move it to the front.
      if (fresh != kNone) {
        std::uint32_t& at = link_after(net, pred);
        routes[fresh].next = at;
        at = fresh;
      }
      if (net.head != kNone) {
        std::uint32_t best_pred = kNone;
        std::uint32_t best = net.head;
        for (std::uint32_t p = net.head, r = routes[net.head].next; r != kNone; p = r, r = routes[r].next) {
          if (better(routes[r], routes[best])) {
            best = r;
            best_pred = p;
          }
        }
        if (best_pred != kNone) {
          routes[best_pred].next = routes[best].next;
          routes[best].next = net.head;
          net.head = best;
        }
      }
    } else if (fresh != kNone) {
      // "not better than the old best route": linked at the old position (or at the end).
      std::uint32_t& at = link_after(net, pred);
      routes[fresh].next = at;
      at = fresh;
    }

    Source& src = sources[source_index];
    if (old == kNone) {
      ++src.routes;
      ++route_count;
      if (old_best == kNone) ++nonempty_nets;
    }
    if (fresh == kNone) {
      --src.routes;
      --route_count;
      if (net.head == kNone) --nonempty_nets;
    }
    if (old != kNone) free_route(old);
    bool changed = net.head != old_best;
    if (changed) mark_changed(net_index);
    return changed;
  }

  // ---- import (proto/bgp/attrs.c bgp_decode_attrs, then the import filter) ---------------------

  // Loop checks and defaults that do not depend on the prefix. nullopt: a loop.
  std::optional<PathAttributes> prepare_import(const Source& p, const PathAttributes& in) const {
    if (in.as_path) {  // bgp_as_path_loopy: our AS anywhere in the path
      for (const auto& s : in.as_path->segments) {
        if (std::find(s.as_numbers.begin(), s.as_numbers.end(), config.local_as) != s.as_numbers.end()) {
          return std::nullopt;
        }
      }
    }
    // RFC 4456 §8: our router id as ORIGINATOR_ID (internal peers), our cluster id in the
    // CLUSTER_LIST of a route from a client.
    if (p.internal && in.originator_id && *in.originator_id == config.router_id) return std::nullopt;
    if (p.cluster_id &&
        std::find(in.cluster_list.begin(), in.cluster_list.end(), Ipv4Address(*p.cluster_id)) !=
            in.cluster_list.end()) {
      return std::nullopt;
    }
    PathAttributes a = in;
    a.mp_reach.reset();  // per message, not per route
    a.mp_unreach.reset();
    if (!a.local_pref) a.local_pref = config.default_local_pref;  // "If there is no local preference, define one"
    return a;
  }

  void resolve(const Source& p, const PathAttributes& a, Candidate& c) {
    std::optional<ResolvedNextHop> hop;
    if (a.next_hop) {
      if (config.resolver) {
        hop = config.resolver(*a.next_hop);
      } else {
        hop = ResolvedNextHop{p.peer.interface, std::nullopt};
      }
    }
    c.dest = hop ? RouteDest::kUnicast : RouteDest::kUnreachable;
    c.iface = hop ? iface_id(hop->interface) : kNone;
    c.via = hop && hop->gateway && hop->gateway != a.next_hop ? hop->gateway->value() : 0;
  }

  // One prefix from a peer, its attributes prepared (and interned as `prepared_id` unless the
  // import filter changes them). Returns the import result and whether the best changed.
  std::pair<ImportResult, bool> import_one(std::uint32_t peer_index, const Ipv4Prefix& prefix,
                                           const PathAttributes& prepared, std::uint32_t prepared_id,
                                           Candidate resolved) {
    Source& p = sources[peer_index];
    std::uint32_t net = get_net(prefix);
    if (!p.peer.import_filter.is_accept_all()) {
      std::optional<Ipv4Address> gw = resolved.via != 0 ? Ipv4Address(resolved.via) : prepared.next_hop;
      FilterRoute fr(nets[net].prefix, RouteSource::kBgp, resolved.dest, &prepared, iface_name(resolved.iface),
                     resolved.dest == RouteDest::kUnicast ? gw : std::nullopt);
      if (!p.peer.import_filter.accepts(fr)) {
        return {ImportResult::kFiltered, recalculate(net, peer_index, nullptr)};
      }
      if (fr.attributes_changed()) {
        PathAttributes changed = std::move(*fr.changed_attributes());
        Candidate c = resolved;
        resolve(p, changed, c);
        c.attrs = store.intern(std::move(changed));
        return {ImportResult::kAccepted, recalculate(net, peer_index, &c)};
      }
    }
    store.ref(prepared_id);
    resolved.attrs = prepared_id;
    return {ImportResult::kAccepted, recalculate(net, peer_index, &resolved)};
  }

  ImportSummary import(SourceId peer_id, std::span<const Ipv4Prefix> prefixes, const PathAttributes& in) {
    Source& p = peer(peer_id);
    CALISIM_CHECK(p.up, "update from a peer whose session is not up");
    auto index = static_cast<std::uint32_t>(peer_id);
    ImportSummary summary;
    std::optional<PathAttributes> prepared = prepare_import(p, in);
    if (!prepared) {
      for (const Ipv4Prefix& prefix : prefixes) {
        ++summary.looped;
        std::uint32_t net = find_net(prefix);
        if (net != kNone && recalculate(net, index, nullptr)) ++summary.best_changes;
      }
      return summary;
    }
    Candidate resolved;
    resolve(p, *prepared, resolved);
    std::uint32_t id = store.intern(*prepared);
    const PathAttributes& stored = store.get(id);
    for (const Ipv4Prefix& prefix : prefixes) {
      auto [result, changed] = import_one(index, prefix, stored, id, resolved);
      if (result == ImportResult::kAccepted) ++summary.accepted;
      else ++summary.filtered;
      if (changed) ++summary.best_changes;
    }
    store.unref(id);
    return summary;
  }

  // ---- export (proto/bgp/attrs.c bgp_preexport, the export filter, bgp_update_attrs) ------------

  std::optional<Ipv4Address> route_gateway(const Route& r) const {
    if (r.dest != RouteDest::kUnicast) return std::nullopt;
    if (sources[r.source].is_peer) {
      if (r.via != 0) return Ipv4Address(r.via);
      return store.get(r.attrs).next_hop;
    }
    return local_routes[r.attrs].gateway;
  }
  std::string_view route_iface(const Route& r) const {
    if (sources[r.source].is_peer) return iface_name(r.iface);
    return local_routes[r.attrs].interface;
  }

  // packets.c bgp_use_next_hop: keep the route's NEXT_HOP?
  static bool use_next_hop(const Source& p, const Source& s, std::uint8_t fresh, Ipv4Address next_hop) {
    if (p.peer.next_hop_self) return false;
    if (p.peer.next_hop_keep) return true;
    if (fresh & kFreshNextHop) return true;
    if (p.internal && !next_hop.is_unspecified()) return true;
    // Passed on between single-hop neighbours on the same device (third-party next hop).
    return s.is_peer && s.up && !s.peer.interface.empty() && s.peer.interface == p.peer.interface;
  }
  // packets.c bgp_use_gateway: use the route's gateway as the NEXT_HOP?
  bool use_gateway(const Source& p, const Route& r) const {
    if (p.peer.next_hop_self) return false;
    std::optional<Ipv4Address> gw = route_gateway(r);
    if (!gw || gw->is_unspecified() || gw->is_link_local()) return false;
    if (p.internal) return true;
    return !p.peer.interface.empty() && p.peer.interface == route_iface(r);
  }

  // nullopt: nothing to send (withdraw). Otherwise the attribute set as the peer gets it.
  std::optional<PathAttributes> update_attrs(const Source& p, const Source& s, const Route& r,
                                             FilterRoute& fr) const {
    PathAttributes a = fr.attributes() ? *fr.attributes() : PathAttributes{};
    a.mp_reach.reset();
    a.mp_unreach.reset();
    if (!a.origin) a.origin = s.is_peer ? Origin::kIncomplete : Origin::kIgp;
    if (a.as_path) {  // AS_CONFED_* segments never leave a confederation (we are in none)
      auto& segs = a.as_path->segments;
      segs.erase(std::remove_if(segs.begin(), segs.end(),
                                [](const auto& seg) {
                                  return seg.type == AsPathSegmentType::kAsConfedSequence ||
                                         seg.type == AsPathSegmentType::kAsConfedSet;
                                }),
                 segs.end());
    }
    if (p.internal) {
      if (!a.as_path) a.as_path = wire::bgp::AsPath{};
    } else {
      if (!a.as_path) a.as_path = wire::bgp::AsPath{};
      auto& segs = a.as_path->segments;
      if (segs.empty() || segs.front().type != AsPathSegmentType::kAsSequence ||
          segs.front().as_numbers.size() >= 255) {
        segs.insert(segs.begin(), wire::bgp::AsPathSegment{});
      }
      segs.front().as_numbers.insert(segs.front().as_numbers.begin(), config.local_as);
      if (!(fr.fresh() & kFreshMed)) a.multi_exit_disc.reset();  // MED only if the filter set it
    }
    if (!(a.next_hop && use_next_hop(p, s, fr.fresh(), *a.next_hop))) {
      if (use_gateway(p, r)) {
        a.next_hop = route_gateway(r);
      } else {
        a.next_hop = p.peer.source_address;
      }
    }
    // "Forbid zero next hop", "Forbid next hop equal to neighbor IP": the route is withdrawn.
    if (!a.next_hop || a.next_hop->is_unspecified() || *a.next_hop == p.peer.address) return std::nullopt;
    if (p.internal && !a.local_pref) a.local_pref = config.default_local_pref;
    // RFC 4456 route reflection.
    if (s.is_peer && s.internal && p.internal) {
      if (!a.originator_id) a.originator_id = s.remote_id;
      if (s.cluster_id) a.cluster_list.insert(a.cluster_list.begin(), Ipv4Address(*s.cluster_id));
      if (p.cluster_id && p.cluster_id != s.cluster_id) {
        a.cluster_list.insert(a.cluster_list.begin(), Ipv4Address(*p.cluster_id));
      }
    }
    // Per-attribute export hooks (bgp_export_local_pref, _originator_id, _cluster_list,
    // _community: the set goes out sorted).
    if (!p.internal) {
      a.local_pref.reset();
      a.originator_id.reset();
      a.cluster_list.clear();
    }
    std::sort(a.communities.begin(), a.communities.end());
    wire::bgp::mark_unknown_partial(a);
    return a;
  }

  // bgp_preexport: nullopt when the route may not go to this peer at all.
  bool preexport(const Source& p, std::uint32_t p_index, const Route& r) const {
    if (r.source == p_index) return false;  // "Reject our routes"
    const Source& s = sources[r.source];
    if (!s.is_peer) return true;
    if (p.internal && s.internal) {
      if (!p.peer.rr_client && !s.peer.rr_client) return false;  // iBGP split horizon
      const auto& cl = store.get(r.attrs).cluster_list;
      if (p.cluster_id && std::find(cl.begin(), cl.end(), Ipv4Address(*p.cluster_id)) != cl.end()) return false;
    }
    const auto& c = store.get(r.attrs).communities;
    auto has = [&c](std::uint32_t v) { return std::find(c.begin(), c.end(), v) != c.end(); };
    if (has(wire::bgp::kCommunityNoAdvertise)) return false;
    if (!p.internal && has(wire::bgp::kCommunityNoExportSubconfed)) return false;
    if (!p.internal && has(wire::bgp::kCommunityNoExport)) return false;
    return true;
  }

  // The attribute set to send `peer` for a net (one reference taken), or kNone.
  std::uint32_t compute_export(std::uint32_t p_index, std::uint32_t net_index) {
    Source& p = sources[p_index];
    const Net& net = nets[net_index];
    if (net.head == kNone) return kNone;
    const Route& r = routes[net.head];
    if (!preexport(p, p_index, r)) return kNone;
    if (p.peer.export_filter.is_reject_all()) return kNone;
    const Source& s = sources[r.source];
    const PathAttributes* attrs = s.is_peer ? &store.get(r.attrs) : nullptr;
    FilterRoute fr(net.prefix, s.kind, r.dest, attrs, route_iface(r), route_gateway(r));
    if (!p.peer.export_filter.is_accept_all() && !p.peer.export_filter.accepts(fr)) return kNone;
    // The transformation depends only on the route's attribute set, its source and device when
    // the filter changed nothing: cache it per peer.
    bool cacheable = s.is_peer && !fr.attributes_changed() && fr.fresh() == kFreshNone;
    std::uint64_t key = mix((std::uint64_t{r.attrs} << 32) | r.source) ^ r.iface;
    if (cacheable) {
      auto it = p.export_cache.find(key);
      if (it != p.export_cache.end()) {
        const ExportKey& k = p.export_keys[it->second];
        if (k.attrs == r.attrs && k.source == r.source && k.iface == r.iface) {
          if (k.out != kNone) store.ref(k.out);
          return k.out;
        }
      }
    }
    std::optional<PathAttributes> out = update_attrs(p, s, r, fr);
    std::uint32_t id = out ? store.intern(std::move(*out)) : kNone;
    if (cacheable) {
      if (p.export_keys.size() >= 4096) clear_cache(p);
      if (p.export_cache.try_emplace(key, static_cast<std::uint32_t>(p.export_keys.size())).second) {
        store.ref(r.attrs);
        if (id != kNone) store.ref(id);
        p.export_keys.push_back(ExportKey{r.attrs, r.source, r.iface, id});
      }
    }
    return id;
  }

  void clear_cache(Source& p) {
    for (const ExportKey& k : p.export_keys) {
      store.unref(k.attrs);
      store.unref(k.out);
    }
    p.export_keys.clear();
    p.export_cache.clear();
  }
  // A neighbour coming or going changes what bgp_use_next_hop decides for routes from it.
  void clear_all_caches() {
    for (Source& s : sources) clear_cache(s);
  }

  void drop_exports(Source& p) {
    for (std::uint32_t& id : p.adj_out) {
      store.unref(id);
      id = kNone;
    }
    p.adj_out_count = 0;
    p.dirty.clear();
    clear_cache(p);
  }

  RibRoute describe(std::uint32_t net_index, std::uint32_t r_index) const {
    const Route& r = routes[r_index];
    const Source& s = sources[r.source];
    RibRoute out;
    out.prefix = nets[net_index].prefix;
    out.source = SourceId{r.source};
    out.protocol = s.name;
    out.kind = s.kind;
    out.dest = r.dest;
    out.preference = s.preference;
    out.gateway = route_gateway(r);
    out.interface = r.dest == RouteDest::kUnicast ? route_iface(r) : std::string_view{};
    out.since = Time::from_ns(r.lastmod_ns);
    out.best = nets[net_index].head == r_index;
    out.stale = r.stale;
    if (s.is_peer) {
      out.attributes = &store.get(r.attrs);
      out.from = s.peer.address;
    } else {
      const LocalRoute& lr = local_routes[r.attrs];
      out.onlink = lr.onlink;
      if (lr.kernel) out.kernel = &*lr.kernel;
    }
    return out;
  }
};

// ---- Rib ---------------------------------------------------------------------------------------

Rib::Rib(RibConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Rib::~Rib() = default;
Rib::Rib(Rib&&) noexcept = default;
Rib& Rib::operator=(Rib&&) noexcept = default;

const RibConfig& Rib::config() const { return impl_->config; }
void Rib::set_now(Time now) { impl_->now = now; }
Time Rib::now() const { return impl_->now; }

SourceId Rib::add_peer(PeerConfig config) {
  Impl::Source s;
  s.name = config.name;
  s.kind = RouteSource::kBgp;
  s.preference = config.preference;
  s.is_peer = true;
  s.internal = config.as_number == impl_->config.local_as;
  if (config.rr_client) s.cluster_id = config.rr_cluster_id.value_or(impl_->config.router_id).value();
  s.peer = std::move(config);
  impl_->sources.push_back(std::move(s));
  return SourceId{static_cast<std::uint32_t>(impl_->sources.size() - 1)};
}

SourceId Rib::add_protocol(std::string name, RouteSource kind, std::optional<std::uint32_t> preference) {
  CALISIM_CHECK(kind != RouteSource::kBgp, "BGP neighbours are added with add_peer");
  Impl::Source s;
  s.name = std::move(name);
  s.kind = kind;
  s.preference = preference.value_or(default_preference(kind));
  impl_->sources.push_back(std::move(s));
  return SourceId{static_cast<std::uint32_t>(impl_->sources.size() - 1)};
}

const PeerConfig& Rib::peer(SourceId peer) const {
  const Impl::Source& s = impl_->source(peer);
  CALISIM_CHECK(s.is_peer, "SourceId is not a BGP peer");
  return s.peer;
}
bool Rib::is_peer(SourceId source) const { return impl_->source(source).is_peer; }
std::string_view Rib::source_name(SourceId source) const { return impl_->source(source).name; }
std::size_t Rib::source_count() const { return impl_->sources.size(); }

void Rib::peer_up(SourceId peer, Ipv4Address router_id) {
  Impl::Source& p = impl_->peer(peer);
  // A new session starts from nothing: whatever the previous one was sent is forgotten and the
  // whole table goes out again (also after a graceful restart, where the routes from the peer
  // were kept).
  impl_->drop_exports(p);
  p.up = true;
  p.remote_id = router_id;
  impl_->clear_all_caches();
  // Only nets whose best route can go to the peer at all (see mark_changed).
  const auto index = static_cast<std::uint32_t>(peer);
  for (std::uint32_t n = 0; n < impl_->nets.size(); ++n) {
    const std::uint32_t head = impl_->nets[n].head;
    if (head != kNone && impl_->preexport(p, index, impl_->routes[head])) p.dirty.mark(n);
  }
  if (!p.dirty.list.empty()) impl_->mark_pending(static_cast<std::uint32_t>(peer));
}

std::size_t Rib::peer_down(SourceId peer) {
  Impl::Source& p = impl_->peer(peer);
  auto index = static_cast<std::uint32_t>(peer);
  std::size_t removed = 0;
  if (p.routes > 0) {
    for (std::uint32_t n = 0; n < impl_->nets.size(); ++n) {
      for (std::uint32_t r = impl_->nets[n].head; r != kNone; r = impl_->routes[r].next) {
        if (impl_->routes[r].source == index) {
          impl_->recalculate(n, index, nullptr);
          ++removed;
          break;
        }
      }
    }
  }
  Impl::Source& again = impl_->peer(peer);
  again.up = false;
  impl_->drop_exports(again);
  impl_->clear_all_caches();
  return removed;
}

bool Rib::is_up(SourceId peer) const { return impl_->source(peer).up; }

void Rib::mark_stale(SourceId peer) {
  auto index = static_cast<std::uint32_t>(peer);
  for (Impl::Route& r : impl_->routes) {
    if (r.source == index && r.attrs != kNone) r.stale = true;
  }
  // Free slots keep stale marks harmlessly: alloc_route() resets them.
}

std::size_t Rib::flush_stale(SourceId peer) {
  auto index = static_cast<std::uint32_t>(peer);
  std::size_t removed = 0;
  for (std::uint32_t n = 0; n < impl_->nets.size(); ++n) {
    for (std::uint32_t r = impl_->nets[n].head; r != kNone; r = impl_->routes[r].next) {
      if (impl_->routes[r].source == index) {
        if (impl_->routes[r].stale) {
          impl_->recalculate(n, index, nullptr);
          ++removed;
        }
        break;
      }
    }
  }
  return removed;
}

ImportResult Rib::update(SourceId peer, Ipv4Prefix prefix, const PathAttributes& attributes) {
  ImportSummary s = impl_->import(peer, std::span<const Ipv4Prefix>(&prefix, 1), attributes);
  if (s.looped) return ImportResult::kLoop;
  if (s.filtered) return ImportResult::kFiltered;
  return ImportResult::kAccepted;
}

ImportSummary Rib::update(SourceId peer, std::span<const Ipv4Prefix> prefixes, const PathAttributes& attributes) {
  return impl_->import(peer, prefixes, attributes);
}

bool Rib::withdraw(SourceId peer, Ipv4Prefix prefix) {
  impl_->peer(peer);
  std::uint32_t net = impl_->find_net(prefix);
  return net != kNone && impl_->recalculate(net, static_cast<std::uint32_t>(peer), nullptr);
}

std::size_t Rib::withdraw(SourceId peer, std::span<const Ipv4Prefix> prefixes) {
  std::size_t changed = 0;
  for (const Ipv4Prefix& p : prefixes) changed += withdraw(peer, p) ? 1 : 0;
  return changed;
}

ImportSummary Rib::apply(SourceId peer, const wire::bgp::Update& update) {
  std::size_t changed = withdraw(peer, update.withdrawn);
  ImportSummary s;
  if (!update.nlri.empty()) s = impl_->import(peer, update.nlri, update.attributes);
  s.best_changes += changed;
  return s;
}

const PathAttributes* Rib::adj_rib_in(SourceId peer, Ipv4Prefix prefix) const {
  auto index = static_cast<std::uint32_t>(peer);
  CALISIM_CHECK(impl_->source(peer).is_peer, "SourceId is not a BGP peer");
  std::uint32_t net = impl_->find_net(prefix);
  if (net == kNone) return nullptr;
  for (std::uint32_t r = impl_->nets[net].head; r != kNone; r = impl_->routes[r].next) {
    if (impl_->routes[r].source == index) return &impl_->store.get(impl_->routes[r].attrs);
  }
  return nullptr;
}

std::size_t Rib::adj_rib_in_size(SourceId peer) const { return impl_->source(peer).routes; }

bool Rib::originate(Ipv4Prefix prefix, LocalRoute route) {
  if (!impl_->default_static) {
    impl_->default_static = static_cast<std::uint32_t>(add_protocol("static1", RouteSource::kStatic));
  }
  return originate(SourceId{*impl_->default_static}, prefix, std::move(route));
}

bool Rib::originate(SourceId protocol, Ipv4Prefix prefix, LocalRoute route) {
  const Impl::Source& s = impl_->source(protocol);
  CALISIM_CHECK(!s.is_peer, "originate() takes a local protocol, not a BGP peer");
  if (route.dest != RouteDest::kUnicast) {
    route.gateway.reset();
    route.interface.clear();
  }
  Impl::Candidate c;
  c.dest = route.dest;
  c.local = &route;
  std::uint32_t net = impl_->get_net(prefix);
  return impl_->recalculate(net, static_cast<std::uint32_t>(protocol), &c);
}

bool Rib::withdraw_local(Ipv4Prefix prefix) {
  if (!impl_->default_static) return false;
  return withdraw_local(SourceId{*impl_->default_static}, prefix);
}

bool Rib::withdraw_local(SourceId protocol, Ipv4Prefix prefix) {
  CALISIM_CHECK(!impl_->source(protocol).is_peer, "withdraw_local() takes a local protocol");
  std::uint32_t net = impl_->find_net(prefix);
  return net != kNone && impl_->recalculate(net, static_cast<std::uint32_t>(protocol), nullptr);
}

std::optional<RibRoute> Rib::best(Ipv4Prefix prefix) const {
  std::uint32_t net = impl_->find_net(prefix);
  if (net == kNone || impl_->nets[net].head == kNone) return std::nullopt;
  return impl_->describe(net, impl_->nets[net].head);
}

std::vector<RibRoute> Rib::routes(Ipv4Prefix prefix) const {
  std::vector<RibRoute> out;
  std::uint32_t net = impl_->find_net(prefix);
  if (net == kNone) return out;
  for (std::uint32_t r = impl_->nets[net].head; r != kNone; r = impl_->routes[r].next) {
    out.push_back(impl_->describe(net, r));
  }
  return out;
}

std::vector<Ipv4Prefix> Rib::prefixes() const {
  std::vector<Ipv4Prefix> out;
  out.reserve(impl_->nonempty_nets);
  for (const Impl::Net& n : impl_->nets) {
    if (n.head != kNone) out.push_back(n.prefix);
  }
  std::sort(out.begin(), out.end(), prefix_less);
  return out;
}

std::vector<Ipv4Prefix> Rib::prefixes_in_bird_order() const {
  struct Entry {
    std::uint32_t hash;
    std::uint32_t net;
  };
  std::vector<Entry> entries;
  entries.reserve(impl_->nonempty_nets);
  for (std::uint32_t i = 0; i < impl_->nets.size(); ++i) {
    const Impl::Net& n = impl_->nets[i];
    if (n.head == kNone) continue;
    // lib/net.h net_hash_ip4: ip4_hash(prefix) ^ (pxlen << 26); lib/bitops.h u32_hash.
    std::uint32_t h = (n.prefix.network().value() * 2902958171u) ^ (std::uint32_t{n.prefix.length()} << 26);
    entries.push_back({h, i});
  }
  // Equal hashes: FIB_INSERT links a new net before older ones of the same hash.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.net > b.net;
  });
  std::vector<Ipv4Prefix> out;
  out.reserve(entries.size());
  for (const Entry& e : entries) out.push_back(impl_->nets[e.net].prefix);
  return out;
}

std::size_t Rib::size() const { return impl_->nonempty_nets; }
std::size_t Rib::route_count() const { return impl_->route_count; }

PeerUpdate Rib::drain(SourceId peer) {
  Impl::Source& p = impl_->peer(peer);
  auto index = static_cast<std::uint32_t>(peer);
  PeerUpdate out;
  if (!p.up) return out;
  if (p.dirty.list.empty()) return out;
  // The dirty list and the scratch swap, so neither gives up its capacity (no allocation per
  // drain in the steady state).
  std::vector<std::uint32_t>& dirty = impl_->drain_scratch;
  dirty.clear();
  dirty.swap(p.dirty.list);
  for (std::uint32_t n : dirty) p.dirty.flag[n] = 0;
  std::sort(dirty.begin(), dirty.end(), [this](std::uint32_t a, std::uint32_t b) {
    return prefix_less(impl_->nets[a].prefix, impl_->nets[b].prefix);
  });
  if (p.adj_out.size() < impl_->nets.size()) p.adj_out.resize(impl_->nets.size(), kNone);
  std::unordered_map<std::uint32_t, std::size_t> group_of;
  for (std::uint32_t n : dirty) {
    std::uint32_t id = impl_->compute_export(index, n);
    Impl::Source& ps = impl_->sources[index];
    std::uint32_t old = ps.adj_out[n];
    if (id == old) {
      impl_->store.unref(id);
      continue;
    }
    ps.adj_out[n] = id;
    impl_->store.unref(old);
    if (old == kNone) ++ps.adj_out_count;
    const Ipv4Prefix& prefix = impl_->nets[n].prefix;
    if (id == kNone) {
      --ps.adj_out_count;
      out.withdrawn.push_back(prefix);
      continue;
    }
    auto [it, inserted] = group_of.try_emplace(id, out.announced.size());
    if (inserted) out.announced.push_back(PeerUpdate::Group{impl_->store.get(id), {}});
    out.announced[it->second].prefixes.push_back(prefix);
  }
  return out;
}

const PathAttributes* Rib::adj_rib_out(SourceId peer, Ipv4Prefix prefix) const {
  const Impl::Source& p = impl_->source(peer);
  std::uint32_t net = impl_->find_net(prefix);
  if (net == kNone || net >= p.adj_out.size() || p.adj_out[net] == kNone) return nullptr;
  return &impl_->store.get(p.adj_out[net]);
}

std::size_t Rib::adj_rib_out_size(SourceId peer) const { return impl_->source(peer).adj_out_count; }
std::size_t Rib::pending(SourceId peer) const { return impl_->source(peer).dirty.list.size(); }

void Rib::take_pending_peers(std::vector<SourceId>& out) {
  out.clear();
  for (std::uint32_t i : impl_->pending_peers) {
    impl_->pending_flag[i] = 0;
    out.push_back(static_cast<SourceId>(i));
  }
  impl_->pending_peers.clear();
}

std::optional<PathAttributes> Rib::export_preview(SourceId peer, Ipv4Prefix prefix) const {
  impl_->source(peer);
  std::uint32_t net = impl_->find_net(prefix);
  if (net == kNone) return std::nullopt;
  // compute_export only adds cache entries and references; it changes nothing a caller sees.
  std::uint32_t id = impl_->compute_export(static_cast<std::uint32_t>(peer), net);
  if (id == kNone) return std::nullopt;
  PathAttributes out = impl_->store.get(id);
  impl_->store.unref(id);
  return out;
}

SubscriberId Rib::subscribe() {
  impl_->subscribers.emplace_back();
  DirtySet& d = impl_->subscribers.back();
  for (std::uint32_t n = 0; n < impl_->nets.size(); ++n) {
    if (impl_->nets[n].head != kNone) d.mark(n);
  }
  return SubscriberId{static_cast<std::uint32_t>(impl_->subscribers.size() - 1)};
}

std::vector<Ipv4Prefix> Rib::drain_best_changes(SubscriberId subscriber) {
  auto i = static_cast<std::uint32_t>(subscriber);
  CALISIM_CHECK(i < impl_->subscribers.size(), "unknown SubscriberId");
  DirtySet& d = impl_->subscribers[i];
  std::vector<Ipv4Prefix> out;
  out.reserve(d.list.size());
  for (std::uint32_t n : d.list) out.push_back(impl_->nets[n].prefix);
  d.clear();
  std::sort(out.begin(), out.end(), prefix_less);
  return out;
}

std::size_t Rib::refresh_next_hops() {
  std::size_t changed = 0;
  Impl& m = *impl_;
  for (std::uint32_t n = 0; n < m.nets.size(); ++n) {
    Impl::Net& net = m.nets[n];
    bool touched = false;
    for (std::uint32_t r = net.head; r != kNone; r = m.routes[r].next) {
      Impl::Route& route = m.routes[r];
      const Impl::Source& s = m.sources[route.source];
      if (!s.is_peer) continue;
      Impl::Candidate c;
      m.resolve(s, m.store.get(route.attrs), c);
      if (c.dest != route.dest || c.iface != route.iface || c.via != route.via) {
        route.dest = c.dest;
        route.iface = c.iface;
        route.via = c.via;
        route.lastmod_ns = m.now.ns();
        touched = true;
      }
    }
    if (!touched) continue;
    // The routes changed in place (rt_next_hop_update_net): elect the best again.
    std::uint32_t best_pred = kNone;
    std::uint32_t best = net.head;
    for (std::uint32_t p = net.head, r = m.routes[net.head].next; r != kNone; p = r, r = m.routes[r].next) {
      if (m.better(m.routes[r], m.routes[best])) {
        best = r;
        best_pred = p;
      }
    }
    if (best_pred != kNone) {
      m.routes[best_pred].next = m.routes[best].next;
      m.routes[best].next = net.head;
      net.head = best;
    }
    m.mark_changed(n);
    ++changed;
  }
  return changed;
}

}  // namespace calisim::bgp
