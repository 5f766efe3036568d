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
// UPDATE → into the RIB; ROUTE-REFRESH → a re-feed, or the peer's refresh cycle), sends each
// established peer what changed for it (withdrawals, then announcements grouped by attributes,
// packed into 4096-byte messages as BIRD packs them, the groups taking turns) and an End-of-RIB
// after the initial feed, syncs the kernel protocol, and asks to be woken at the earliest
// deadline. Every state change of every session goes to the state log (state_log()).

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
  // UPDATEs the session refused to send (attributes too long for a message): BIRD withdraws
  // such a bucket's prefixes instead (bgp_withdraw_bucket); calisim counts and reports them.
  std::uint64_t send_errors = 0;
  std::string last_send_error;
};

// A state change of a neighbour's protocol, as events.jsonl records it. The event listener gets
// "established" and "down" (detail: the reason); the state listener gets every line of the
// state log, `what` saying whose state changed ("protocol", "outgoing", "incoming") and
// `detail` the line without the protocol name ("State changed to up").
struct NeighborEvent {
  Time at;
  std::string neighbor;
  std::string what;
  std::string detail;
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
  // Called for every line of the state log as it happens.
  void set_state_listener(std::function<void(const NeighborEvent&)> listener) {
    state_listener_ = std::move(listener);
  }
  // Every protocol and connection state change of every neighbour, in order: the lines BIRD
  // logs under Calico's `debug { states }` ("Mesh_10_0_0_2: State changed to up"; `bird -d`
  // prints them after "bird: ") with calisim's lines for connection changes between them
  // ("Mesh_10_0_0_2: Outgoing connection changed state from Idle to Active (connect delay)";
  // see state_log_lines).
  std::vector<LogEntry> state_log() const;

  // `birdc reload in <neighbor>` (bgp_reload_routes): ask the peer to send its routes again
  // (ROUTE-REFRESH). kUnavailable unless Established, kUnsupported when the peer did not
  // announce route refresh (birdc: "reload failed").
  [[nodiscard]] Result<void> reload_in(Time now, std::size_t neighbor);
  // Local routes changed (originate/withdraw_local on rib()): send and install them.
  void routes_changed(Time now) { pump(now); }

 private:
  struct Neighbor {
    NeighborConfig config;
    SourceId source{};
    std::unique_ptr<Session> session;
    bool end_of_rib_sent = false;
    // bgp_feed_begin / bgp_feed_end: a re-feed asked for by the peer, sent between BoRR and
    // EoRR when enhanced route refresh was negotiated: the EoRR is still to go.
    bool end_of_refresh_due = false;
    std::size_t state_seen = 0;  // entries of the session's state_log() already logged
    std::uint64_t send_errors = 0;
    std::string last_send_error;
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
  void log_states(std::size_t index);
  void refeed(Time now, std::size_t index);
  void send_error(Neighbor& n, const Error& error);

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
  std::function<void(const NeighborEvent&)> state_listener_;
  // The state log: (neighbour, index into its session's state_log()).
  std::vector<std::pair<std::uint32_t, std::uint32_t>> state_log_;
  std::vector<std::string> line_scratch_;
  // export_to: the attribute groups still to send, round robin (BIRD's bucket queue).
  std::vector<std::pair<std::size_t, std::size_t>> bucket_queue_;
};

}  // namespace calisim::bgp
