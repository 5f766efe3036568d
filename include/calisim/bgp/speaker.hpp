#pragma once
// One node's BGP daemon (BIRD under Calico): a Session per neighbour, the Rib, and optionally
// the kernel protocol that installs best routes into the node's namespace. It is sans-IO too:
// the world reaches it through SpeakerIo (open/write/close TCP connections, wake me at T) and
// tells it what happened through the on_* calls. Two worlds exist: SimBgpIo (simulated TCP in
// a dataplane::Namespace, sim_io.hpp) and PosixBgpIo (real sockets, posix_io.hpp), so the same
// speaker peers with simulated nodes and with a real BIRD or GoBGP.
//
// After every input the speaker "pumps": it carries out each session's actions (connect, send,
// close; Established → the peer's routes and our initial feed; Down → its routes withdrawn;
// UPDATE → into the RIB), sends each established peer what changed for it (withdrawals, then
// announcements grouped by attributes, split to fit 4096-byte messages) and an End-of-RIB after
// the initial feed, syncs the kernel protocol, and asks to be woken at the earliest deadline.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <calisim/bgp/kernel.hpp>
#include <calisim/bgp/rib.hpp>
#include <calisim/bgp/session.hpp>
#include <calisim/sim/random.hpp>
#include <calisim/sim/time.hpp>
#include <calisim/wire/address.hpp>
#include <calisim/wire/bytes.hpp>

namespace calisim::bgp {

class SpeakerIo {
 public:
  virtual ~SpeakerIo() = default;
  // Open a TCP connection from `local` to remote:port; report on_connected or
  // on_connect_failed with `id`.
  virtual void connect(ConnectionId id, wire::Ipv4Address local, wire::Ipv4Address remote,
                       std::uint16_t port) = 0;
  virtual void send(ConnectionId id, wire::Bytes bytes) = 0;
  // Close (FIN after what was sent); no more on_* calls for `id` are expected.
  virtual void close(ConnectionId id) = 0;
  // Call Speaker::on_timer at or after `at` (a later call replaces an earlier request).
  virtual void wake_at(Time at) = 0;
};

struct SpeakerConfig {
  std::string name;  // the node, for logs and events
  std::uint32_t local_as = 64512;
  wire::Ipv4Address router_id;
  std::uint64_t seed = 1;  // the sessions' jitter streams derive from it and the peer name
  // `gateway recursive` (Calico's template): where a BGP next hop leads, looked up in the table
  // as BIRD's host cache does (kernel_resolver over the node's namespace). Unset: the next hop
  // is on the neighbour's interface (`gateway direct`).
  NextHopResolver resolver{};
};

struct NeighborConfig {
  PeerConfig peer;        // name, address, AS, export/import filters, rr client, ...
  SessionConfig session;  // timers, passive; local/peer AS and addresses are filled in
  std::uint16_t port = 179;
};

// What a neighbour looks like from outside: the `show protocols` row and the counters.
struct NeighborStatus {
  std::string name;
  wire::Ipv4Address address;
  SessionStatus session;
  std::size_t routes_imported = 0;  // in the Adj-RIB-In
  std::size_t routes_exported = 0;  // in the Adj-RIB-Out
};

// A state change of a neighbour's protocol, as events.jsonl records it.
struct NeighborEvent {
  Time at;
  std::string neighbor;
  std::string what;    // "established", "down"
  std::string detail;  // the reason for a down
};

class Speaker {
 public:
  Speaker(SpeakerConfig config, SpeakerIo& io);
  ~Speaker();
  Speaker(const Speaker&) = delete;
  Speaker& operator=(const Speaker&) = delete;

  std::size_t add_neighbor(NeighborConfig config);
  // BIRD's `protocol kernel`: best routes go into `ns` (call before start).
  void attach_kernel(dataplane::Namespace& ns, KernelConfig config);

  void start(Time now);
  // Every session stops (Cease, administrative shutdown); routes learned are withdrawn.
  void stop(Time now);

  // ---- from the world ------------------------------------------------------------------------
  void on_connected(Time now, ConnectionId id);
  void on_connect_failed(Time now, ConnectionId id, std::string_view error);
  // A connection arrived from `remote`: the id to report its bytes under, or nullopt when no
  // neighbour has that address (BIRD: "Unexpected connect from unknown address"; close it).
  std::optional<ConnectionId> on_incoming(Time now, wire::Ipv4Address remote);
  void on_bytes(Time now, ConnectionId id, wire::Bytes bytes);
  void on_closed(Time now, ConnectionId id, std::string_view error);
  void on_timer(Time now);

  // ---- what it knows -------------------------------------------------------------------------
  Rib& rib() { return rib_; }
  const Rib& rib() const { return rib_; }
  std::size_t neighbor_count() const { return neighbors_.size(); }
  // Read-only: the speaker caches each session's deadline, so sessions change only through it.
  const Session& session(std::size_t neighbor) const { return *neighbors_[neighbor]->session; }
  NeighborStatus status(std::size_t neighbor) const;
  std::optional<std::size_t> find_neighbor(std::string_view name) const;
  // The id (as given to SpeakerIo) of the connection carrying the neighbour's Established
  // session, if it is Established. After a collision the losing connection may still be open
  // for a moment; this is the one that won.
  std::optional<ConnectionId> established_connection(std::size_t neighbor) const;
  KernelProtocol* kernel() { return kernel_.get(); }
  const KernelProtocol* kernel() const { return kernel_.get(); }
  const SpeakerConfig& config() const { return config_; }
  // When start() ran (BIRD's start: its static, kernel, device and direct protocols came up).
  std::optional<Time> started_at() const { return started_at_; }
  std::optional<Time> next_deadline() const;

  void set_event_listener(std::function<void(const NeighborEvent&)> listener) {
    listener_ = std::move(listener);
  }
  // Local routes changed (originate/withdraw_local on rib()): send and install them.
  void routes_changed(Time now) { pump(now); }

 private:
  struct Neighbor {
    NeighborConfig config;
    SourceId source{};
    std::unique_ptr<Session> session;
    bool end_of_rib_sent = false;
    bool touched = false;          // in touched_: its session had input since the last pump
    bool export_due = false;       // in export_due_
    std::optional<Time> deadline;  // the session's next_deadline() as entered in deadlines_
    // Its open connections: the session's id and the id the IO knows (at most a few).
    std::vector<std::pair<ConnectionId, std::uint64_t>> connections;
  };
  struct Link {
    std::size_t neighbor;
    ConnectionId local;  // the id the session knows
  };

  void touch(std::size_t neighbor);
  void export_due(std::size_t neighbor);
  void pump(Time now);
  void run_actions(Time now, std::size_t index);
  void export_to(Time now, Neighbor& n);
  std::optional<std::size_t> link_of(ConnectionId global, ConnectionId* local) const;
  ConnectionId global_id(std::size_t neighbor, ConnectionId local);
  void forget(std::size_t neighbor, ConnectionId local);
  void emit(Time now, const Neighbor& n, std::string what, std::string detail);

  SpeakerConfig config_;
  SpeakerIo* io_;
  Rib rib_;
  std::unique_ptr<KernelProtocol> kernel_;
  std::vector<std::unique_ptr<Neighbor>> neighbors_;
  std::unordered_map<std::uint64_t, Link> links_;  // global connection id -> neighbour, local id
  // The work of a pump is proportional to what changed, not to the number of neighbours
  // (a 500-node mesh has 499 per speaker): the neighbours whose sessions had input, and every
  // session's deadline in one ordered set.
  std::vector<std::size_t> touched_;
  // Neighbours that may need an export: the RIB marked changes for them, or they came up and
  // are owed a feed and an End-of-RIB. Kept until exported (or no longer up).
  std::vector<std::size_t> export_due_;
  std::vector<std::size_t> neighbor_of_source_;  // SourceId -> neighbour index
  // Peer address -> the first neighbour with it (what on_incoming looked for in order).
  std::unordered_map<std::uint32_t, std::size_t> neighbor_by_address_;
  std::vector<SourceId> pending_scratch_;
  std::set<std::pair<Time, std::size_t>> deadlines_;
  std::uint64_t next_global_ = 1;
  std::optional<Time> requested_wake_;
  std::optional<Time> started_at_;
  bool pumping_ = false;
  std::function<void(const NeighborEvent&)> listener_;
};

}  // namespace calisim::bgp
