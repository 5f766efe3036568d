#pragma once
// One BGP peer's session as a sans-IO state machine (RFC 4271 §8), shaped the way BIRD 2.0.12
// (the daemon calico-node runs) shapes it: a peer (`Session`, BIRD's bgp_proto) owns up to two
// connections, the one it initiates (outgoing) and the one the peer initiates (incoming), each
// with its own RFC 4271 state and timers; collisions between them are resolved inside the
// session. It never reads a clock and never touches a socket: the caller hands it the time and
// what happened, then drains poll_action() and wakes it again at next_deadline().
//
//   session.start(now);
//   while (auto a = session.poll_action()) handle(*a);   // Connect, Send, Close, events
//   session.on_connected(now, id, true);                 // our TCP connect completed
//   session.on_bytes(now, id, bytes);                    // whatever TCP delivered
//   wake me at session.next_deadline(), then session.on_timer(now)
//
// Connection ids: an outgoing connection's id comes in the Connect action, allocated by the
// session with ConnectionId::kSessionAllocated set; an incoming connection's id is the caller's
// choice and must not have that bit set. Calls naming an id the session no longer uses (bytes
// arriving after it closed the connection) are ignored.
//
// What follows BIRD rather than the letter of RFC 4271 (each cited where it is implemented):
//   - every timer is jittered as bgp_start_timer does: t - random() % (t/4 + 1), in BIRD's
//     microseconds, so a 80 s timer fires uniformly in [60 s, 80 s];
//   - KEEPALIVEs go out when the keepalive timer fires, and the timer is restarted only when a
//     KEEPALIVE is sent (packets.c bgp_fire_tx), never by an UPDATE; the first KEEPALIVE goes
//     out as the peer's OPEN is accepted (bgp_rx_open, OpenSent -> OpenConfirm);
//   - an active peer waits `connect delay time` in Active before connecting (bgp_active), also
//     after every failed attempt; `connect retry time` bounds one attempt (bgp_connect);
//   - after a protocol error (a NOTIFICATION other than Cease sent or received) the next start
//     waits the error wait time, which doubles from its minimum to its maximum and is forgotten
//     only when the next error comes `error forget time` after the previous one
//     (bgp_update_startup_delay); socket errors and Ceases do not count;
//   - collisions are decided when an OPEN arrives while the other connection is in OpenConfirm
//     (bgp_rx_open): the connection initiated by the higher router id (then higher AS) stays,
//     the other gets Cease / Connection collision resolution; an OPEN on a second connection
//     while one is Established is always refused that way; only one incoming connection is
//     kept (bgp_incoming_connection);
//   - graceful restart (Calico's bird.cfg sets `graceful restart`): when the connection of an
//     Established session with a GR-capable peer fails, the routes are kept stale (event
//     GracefulRestart) for the peer's restart time, and a new incoming connection from such a
//     peer replaces the Established one (bgp_handle_graceful_restart).
// Not modelled: long-lived graceful restart beyond advertising awareness, dynamic peers, BFD,
// TCP-MD5, route limits, ADD-PATH (Calico's BIRD 1.6 fork sets `add paths on`; the codec does
// not encode path identifiers).

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <calisim/sim/random.hpp>
#include <calisim/sim/result.hpp>
#include <calisim/sim/time.hpp>
#include <calisim/wire/address.hpp>
#include <calisim/wire/bgp.hpp>
#include <calisim/wire/bytes.hpp>

namespace calisim::bgp {

// RFC 4271 §8.2.2 states, plus BIRD's Close (BS_CLOSE: a NOTIFICATION is on its way out and
// nothing more is read). Ordered as BIRD orders them: the session shows the larger of its two
// connections' states.
enum class State : std::uint8_t {
  kIdle,
  kConnect,
  kActive,
  kOpenSent,
  kOpenConfirm,
  kEstablished,
  kClose,
};
// "Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established", "Close"
// (bgp.c bgp_state_names).
std::string_view to_string(State state);

// The protocol state BIRD's core keeps (nest/proto.c PS_*), the STATE column of `birdc show
// protocols` and of calicoctl node status.
enum class ProtocolState : std::uint8_t { kDown, kStart, kUp, kStop };
std::string_view to_string(ProtocolState state);  // "down", "start", "up", "stop"

// What the last error was (bgp.h BE_*); the prefix of the INFO text.
enum class ErrorClass : std::uint8_t {
  kNone,
  kMisc,        // "Error: " (neighbor lost, graceful restart, ...)
  kSocket,      // "Socket: "
  kReceived,    // "Received: " a NOTIFICATION from the peer
  kSent,        // "BGP Error: " a NOTIFICATION we sent
  kAutoDown,    // "Automatic shutdown: "
  kManualDown,  // "" (disabled by the operator)
};
std::string_view error_class_prefix(ErrorClass error_class);

enum class ConnectionRole : std::uint8_t { kOutgoing, kIncoming };
std::string_view to_string(ConnectionRole role);  // "outgoing", "incoming"

struct ConnectionId {
  static constexpr std::uint64_t kSessionAllocated = std::uint64_t{1} << 63;
  std::uint64_t value = 0;
  constexpr auto operator<=>(const ConnectionId&) const = default;
};

// BIRD's `graceful restart` option (bgp.h BGP_GR_*).
enum class GracefulRestartMode : std::uint8_t {
  kOff,    // no capability 64
  kAware,  // capability 64 without families: we keep a restarting peer's routes
  kAble,   // also list IPv4 unicast: Calico's `graceful restart;`
};

// One peer, with the values Calico's bird.cfg template gives (calico.md §4.2); BIRD's own
// defaults (proto/bgp/config.Y) are noted where they differ.
struct SessionConfig {
  std::uint32_t local_as = 64512;
  std::uint32_t peer_as = 64512;  // Calico's mesh is iBGP
  wire::Ipv4Address router_id;
  wire::Ipv4Address local_address;
  wire::Ipv4Address peer_address;
  // `passive on`: never connect, only accept. Calico sets it on the mesh peer whose address is
  // the larger string.
  bool passive = false;

  std::uint16_t hold_time_s = 240;
  std::uint16_t startup_hold_time_s = 240;  // hold timer while in OpenSent
  // 0: hold time / 3. Otherwise scaled with the negotiated hold time (bgp_rx_open).
  std::uint16_t keepalive_time_s = 0;
  std::uint16_t min_hold_time_s = 0;       // `min hold time`: 0 accepts any
  std::uint16_t min_keepalive_time_s = 0;  // `min keepalive time`
  std::uint32_t connect_delay_time_s = 2;  // BIRD default 5
  std::uint32_t connect_retry_time_s = 5;  // BIRD default 120
  std::uint32_t error_wait_min_s = 5;      // BIRD default 60
  std::uint32_t error_wait_max_s = 30;     // BIRD default 300
  std::uint32_t error_forget_time_s = 300;

  GracefulRestartMode graceful_restart = GracefulRestartMode::kAble;  // BIRD default: aware
  std::uint16_t graceful_restart_time_s = 120;
  bool enable_route_refresh = true;
  bool enable_as4 = true;
};

// The OPEN the session sends: capabilities in BIRD's order (packets.c bgp_write_capabilities):
// multiprotocol IPv4 unicast, route refresh, graceful restart, 4-octet AS, enhanced route
// refresh, long-lived graceful restart (awareness only), as BIRD 2.0.12 under Calico sends them.
wire::bgp::Open local_open(const SessionConfig& config);

// ---- actions and events (poll_action) -------------------------------------------------------

// Open a TCP connection to the peer; report the outcome with on_connected or on_connect_failed.
struct ConnectAction {
  ConnectionId id;
};
// Write one whole message to the connection.
struct SendAction {
  ConnectionId id;
  wire::bgp::MessageType type = wire::bgp::MessageType::kKeepalive;
  std::vector<std::uint8_t> bytes;
};
// Close the connection (or abandon the connect attempt). Anything sent before is delivered.
struct CloseAction {
  ConnectionId id;
};
// The session reached Established: export routes, then End-of-RIB.
struct EstablishedEvent {
  ConnectionId id;
  wire::Ipv4Address neighbor_id;
  std::uint16_t hold_time_s = 0;
  std::uint16_t keepalive_time_s = 0;
};
// The routes learned from the peer are gone: the session left Established (or a graceful
// restart failed). `reason` is the INFO error text: "Socket: Connection closed",
// "Received: Hold timer expired", "BGP Error: Bad peer AS", ...
struct DownEvent {
  std::string reason;
};
// The Established connection failed and the peer is graceful-restart capable: keep its routes,
// marked stale, until GracefulRestartDone or a DownEvent.
struct GracefulRestartEvent {
  Time restart_deadline;  // now + the peer's restart time
};
// The peer came back: routes not refreshed since GracefulRestartEvent are to be removed
// (bgp_graceful_restart_done: after its End-of-RIB, or at once if it does not preserve state).
struct GracefulRestartDoneEvent {};
// An UPDATE for the RIB. With action kTreatAsWithdraw (RFC 7606 §2) its reachable prefixes have
// been moved to `update.withdrawn` and the attributes dropped. IPv4 unicast in MP_UNREACH_NLRI
// is in `update.withdrawn` too; IPv4 unicast in MP_REACH_NLRI comes as an event of its own
// after this one, its `update.nlri` with `attributes.next_hop` taken from the MP next hop, as
// BIRD's bgp_rx_update decodes the four prefix lists in turn (withdrawn, MP_UNREACH, NLRI,
// MP_REACH), each with its own next hop.
struct UpdateReceivedEvent {
  wire::bgp::Update update;
  wire::bgp::UpdateAction action = wire::bgp::UpdateAction::kNone;
  std::vector<wire::bgp::UpdateError> errors;
};
// A ROUTE-REFRESH for IPv4 unicast (packets.c bgp_rx_route_refresh): subtype 0 asks for our
// routes again (wrapped in BoRR / EoRR when enhanced route refresh was negotiated); 1 (BoRR)
// begins the peer's re-advertisement: mark its routes stale; 2 (EoRR) ends it: drop those still
// stale. A BoRR before the peer's End-of-RIB or an EoRR without a BoRR is ignored (logged) and
// never comes here.
struct RouteRefreshReceivedEvent {
  wire::bgp::RouteRefresh refresh;
};
struct EndOfRibReceivedEvent {
  wire::bgp::AfiSafi family;
};

using Action = std::variant<ConnectAction, SendAction, CloseAction, EstablishedEvent, DownEvent,
                            GracefulRestartEvent, GracefulRestartDoneEvent, UpdateReceivedEvent,
                            RouteRefreshReceivedEvent, EndOfRibReceivedEvent>;

// ---- what tests and views read --------------------------------------------------------------

// One connection state change (every change goes through Session::set_state).
struct Transition {
  Time time;
  ConnectionRole role = ConnectionRole::kOutgoing;
  State from = State::kIdle;
  State to = State::kIdle;
  std::string reason;
};

// One protocol state change (nest/proto.c proto_notify_state).
struct ProtocolTransition {
  Time time;
  ProtocolState from = ProtocolState::kDown;
  ProtocolState to = ProtocolState::kDown;
};

class Session;

// One entry of the state log: transitions()[index] or protocol_transitions()[index]. The log
// holds both kinds in the order they happened; set_state and set_protocol_state append to it.
struct StateLogEntry {
  enum class Kind : std::uint8_t { kConnection, kProtocol };
  Kind kind = Kind::kConnection;
  std::uint32_t index = 0;
};

// The lines a state change is logged as, without the protocol name (the caller puts
// "Mesh_10_0_0_2: " in front):
//   - a protocol change as BIRD logs it under Calico's `debug { states }` (nest/proto.c
//     proto_log_state_change: "State changed to start" / "up" / "stop"; going down is two lines,
//     "State changed to flush" while the channels flush, then "State changed to down");
//   - a connection change, which BIRD does not log as text (bgp_conn_set_state writes only an
//     MRT BGP4MP_STATE_CHANGE record under `mrtdump states`), as calisim writes it with BIRD's
//     state names: "Outgoing connection changed state from Idle to Active (connect delay)".
// Appends to `out` (and returns how many lines it added).
std::size_t state_log_lines(const Session& session, StateLogEntry entry,
                            std::vector<std::string>& out);

// BIRD's trace of events that are not state changes: "Connect delayed by 2 seconds",
// "Incoming connection from 10.0.0.2 rejected", "Connection collision, giving up the other
// connection", "Invalid NEXT_HOP attribute - treat as withdraw", ...
struct LogEntry {
  Time time;
  std::string text;
};

struct SessionCounters {
  // BIRD's proto stats: every message in or out, and UPDATEs (bgp_rx_packet, bgp_send).
  std::uint64_t messages_in = 0;
  std::uint64_t messages_out = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t opens_in = 0;
  std::uint64_t opens_out = 0;
  std::uint64_t updates_in = 0;
  std::uint64_t updates_out = 0;
  std::uint64_t notifications_in = 0;
  std::uint64_t notifications_out = 0;
  std::uint64_t keepalives_in = 0;
  std::uint64_t keepalives_out = 0;
  std::uint64_t route_refreshes_in = 0;
  std::uint64_t route_refreshes_out = 0;
  std::uint64_t established_transitions = 0;  // fsm_established_transitions
};

struct SessionStatus {
  ProtocolState protocol_state = ProtocolState::kDown;
  State state = State::kIdle;  // the larger of the two connections' states
  // bgp_state_dsc: "Down", "Passive" (idle, started, passive), else to_string(state).
  std::string state_description;
  ErrorClass last_error_class = ErrorClass::kNone;
  std::string last_error;  // "Socket: Connection refused", "" when none
  // The INFO column exactly as bgp_get_status writes it: "%-14s%s%s" of the description, the
  // error class and message ("Active        Socket: Connection refused", "Established   "),
  // or only the error when the protocol is down. calicoctl prints its words joined by spaces.
  std::string info;
  Time since;                     // last protocol state change (the SINCE column)
  wire::Ipv4Address neighbor_id;  // 0.0.0.0 until an OPEN was accepted
  std::uint16_t hold_time_s = 0;  // negotiated, of the Established connection
  std::uint16_t keepalive_time_s = 0;
  Duration error_wait;  // the startup delay the next protocol start will use
  bool graceful_restart_active = false;
  SessionCounters counters;
};

class Session {
 public:
  // `rng` jitters the timers: derive it per session from the run seed, e.g.
  // RandomStream(run_seed, "bgp/10.0.0.1->10.0.0.2").
  Session(SessionConfig config, RandomStream rng);

  // ---- inputs ----
  // ManualStart / automatic start (BIRD: protocol enabled): Down -> Start, then, after any error
  // wait, Active (or waiting passively).
  void start(Time now);
  // ManualStop (`birdc disable`): Cease / Administrative Shutdown on every connection past
  // Active, with `message` as the Shutdown Communication (RFC 9003) when not empty; the
  // protocol stays down until start().
  void stop(Time now, std::string_view message = {});
  // A TCP connection is up: ours (`we_initiated`, the id of our Connect action) or one the peer
  // opened to us.
  void on_connected(Time now, ConnectionId id, bool we_initiated);
  // Our connect attempt failed: `error` as strerror spells it ("Connection refused").
  void on_connect_failed(Time now, ConnectionId id, std::string_view error);
  // Bytes TCP delivered on a connection, in order, in chunks of any size.
  void on_bytes(Time now, ConnectionId id, wire::Bytes bytes);
  // The peer closed (error empty: "Connection closed") or the connection failed ("Connection
  // reset by peer", "Connection timed out").
  void on_closed(Time now, ConnectionId id, std::string_view error = {});
  // Runs every timer due at `now`. Call at or after next_deadline().
  void on_timer(Time now);

  // ---- sending routes (the RIB's side) ----
  // kUnavailable unless Established; kOutOfRange if the UPDATE does not fit in a message.
  // Sending an UPDATE does not restart the keepalive timer (BIRD).
  [[nodiscard]] Result<void> send_update(Time now, const wire::bgp::Update& update);
  [[nodiscard]] Result<void> send_end_of_rib(Time now,
                                             wire::bgp::AfiSafi family = wire::bgp::kIpv4Unicast);
  // A ROUTE-REFRESH (RFC 2918; BIRD's `reload in`): kUnsupported unless the peer announced
  // capability 2. Subtype 1 / 2 (BoRR / EoRR, RFC 7313 §4) need enhanced route refresh on both
  // sides (kUnsupported otherwise).
  [[nodiscard]] Result<void> send_route_refresh(Time now,
                                                wire::bgp::AfiSafi family = wire::bgp::kIpv4Unicast,
                                                std::uint8_t subtype = 0);
  // One UPDATE packed as BIRD packs it (packets.c bgp_create_ip_reach / bgp_create_ip_unreach,
  // bgp_encode_nlri_ip4): prefixes from the front of `prefixes` go in while at least
  // BGP_NLRI_MAX (37) octets of the 4096-octet message are left. Returns how many went in.
  // announce: kOutOfRange when the attributes exceed what BIRD allows (4096 - 1024 - 4 octets;
  // BIRD then withdraws the bucket's prefixes instead, bgp_withdraw_bucket).
  [[nodiscard]] Result<std::size_t> send_announcement(Time now,
                                                      const wire::bgp::PathAttributes& attributes,
                                                      std::span<const wire::Ipv4Prefix> prefixes);
  [[nodiscard]] Result<std::size_t> send_withdrawal(Time now,
                                                    std::span<const wire::Ipv4Prefix> prefixes);

  // ---- outputs ----
  std::optional<Action> poll_action();
  std::optional<Time> next_deadline() const;

  SessionStatus status() const;
  ProtocolState protocol_state() const { return protocol_state_; }
  State state() const;  // the larger of the two connections' states
  State connection_state(ConnectionRole role) const;
  std::optional<ConnectionId> connection_id(ConnectionRole role) const;
  // The codec settings of the Established connection (4-octet AS, iBGP).
  std::optional<wire::bgp::CodecContext> codec_context() const;
  // Both sides announced enhanced route refresh (capability 70) on the Established connection
  // (BIRD's p->enhanced_refresh).
  bool enhanced_route_refresh() const;

  const std::vector<Transition>& transitions() const { return transitions_; }
  const std::vector<ProtocolTransition>& protocol_transitions() const {
    return protocol_transitions_;
  }
  const std::vector<LogEntry>& log() const { return log_; }
  const std::vector<StateLogEntry>& state_log() const { return state_log_; }
  const SessionConfig& config() const { return config_; }

 private:
  // BIRD's start_state (bgp.h BSS_*).
  enum class StartState : std::uint8_t { kPrepare, kDelay, kConnect };

  // One connection (BIRD's bgp_conn): its state, socket, timers and what its OPENs settled.
  struct Connection {
    explicit Connection(ConnectionRole r) : role(r) {}
    ConnectionRole role;
    State state = State::kIdle;
    std::optional<ConnectionId> id;  // the socket, when there is one
    std::optional<Time> connect_deadline;
    std::optional<Time> hold_deadline;
    std::optional<Time> keepalive_deadline;
    wire::bgp::MessageFramer framer;
    std::optional<wire::bgp::Open> remote_open;
    std::uint16_t hold_time_s = 0;
    std::uint16_t keepalive_time_s = 0;
    wire::bgp::CodecContext codec;
  };

  // Connection state and protocol flow (session.cpp).
  void set_state(Connection& conn, State next, std::string_view reason);
  void set_protocol_state(ProtocolState next);
  std::optional<Time> start_timer(std::uint32_t seconds);
  void protocol_start();
  void initiate();
  void startup();
  void go_active();
  void connect();
  void send_open(Connection& conn);
  void close_connection(Connection& conn);
  void enter_close(Connection& conn);
  void enter_idle(Connection& conn, std::string_view reason);
  void leave_established();
  void enter_established(Connection& conn);
  void stop_protocol(std::optional<wire::bgp::Notification> cease);
  void graceful_close(Connection& conn, const wire::bgp::Notification& cease);
  void error(Connection& conn, wire::bgp::Notification notification, std::string_view reason);
  void socket_error(Connection& conn, std::string_view error);
  void update_error_wait();
  void store_error(const Connection* conn, ErrorClass error_class, std::string message);
  void handle_graceful_restart();
  void graceful_restart_done();
  void run_decision();
  void fire_timers();
  void trace(std::string text);
  Connection* find(ConnectionId id);
  Connection& other(Connection& conn) { return &conn == &outgoing_ ? incoming_ : outgoing_; }

  // Sending (session_tx.cpp).
  void send_message(Connection& conn, wire::bgp::MessageType type, std::vector<std::uint8_t> bytes);
  void send_keepalive(Connection& conn);

  // Receiving (session_rx.cpp).
  void receive(Connection& conn, wire::Bytes message);
  void receive_open(Connection& conn, wire::Bytes message);
  void receive_update(Connection& conn, wire::Bytes message);
  void receive_notification(Connection& conn, wire::Bytes message);
  void receive_keepalive(Connection& conn);
  void receive_route_refresh(Connection& conn, wire::Bytes message);
  void receive_mp_nlri(const wire::bgp::DecodedUpdate& update, UpdateReceivedEvent& event);
  void fsm_error(Connection& conn);

  SessionConfig config_;
  RandomStream rng_;
  Time now_;  // the time of the input being handled

  ProtocolState protocol_state_ = ProtocolState::kDown;
  Time protocol_since_;
  StartState start_state_ = StartState::kPrepare;
  bool disabled_ = true;  // until start(); stop() sets it again
  bool decision_pending_ = false;

  Connection outgoing_{ConnectionRole::kOutgoing};
  Connection incoming_{ConnectionRole::kIncoming};
  Connection* established_ = nullptr;  // BIRD's p->conn
  std::uint64_t next_connection_id_ = 1;
  wire::Ipv4Address neighbor_id_;

  // Error wait (BIRD's startup_delay) and the timer that runs it.
  std::uint32_t error_wait_s_ = 0;
  std::optional<Time> last_protocol_error_;
  std::optional<Time> startup_deadline_;

  // BIRD's c->load_state for IPv4 unicast: the peer's initial feed until its End-of-RIB
  // (kLoading, when it announced graceful restart), or an enhanced refresh between its BoRR and
  // EoRR (kRefreshing).
  enum class LoadState : std::uint8_t { kNone, kLoading, kRefreshing };
  LoadState load_state_ = LoadState::kNone;

  // Graceful restart of the peer (receiving side).
  bool gr_ready_ = false;   // the Established peer can restart gracefully
  bool gr_active_ = false;  // its routes are held stale now
  std::optional<Time> gr_deadline_;

  ErrorClass last_error_class_ = ErrorClass::kNone;
  std::string last_error_;
  SessionCounters counters_;

  std::deque<Action> actions_;
  std::vector<Transition> transitions_;
  std::vector<ProtocolTransition> protocol_transitions_;
  std::vector<LogEntry> log_;
  std::vector<StateLogEntry> state_log_;
};

}  // namespace calisim::bgp
