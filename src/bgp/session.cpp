// The session's connections, timers and protocol flow, after BIRD 2.0.12 proto/bgp/bgp.c.
// Receiving messages is in session_rx.cpp, sending them in session_tx.cpp; names, the OPEN we
// send and the status view in session_status.cpp.
//
// BIRD runs some steps as deferred events (bgp_decision after a connection goes idle, the core
// restarting a protocol that went down). Here they run at the end of the input that caused them
// (run_decision), at the same simulated instant, which is when BIRD's event loop gets to them.

#include <calisim/bgp/session.hpp>

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

namespace calisim::bgp {

namespace bgp_wire = wire::bgp;

Session::Session(SessionConfig config, RandomStream rng) : config_(std::move(config)), rng_(rng) {}

// ---- inputs ---------------------------------------------------------------------------------

void Session::start(Time now) {
  now_ = now;
  disabled_ = false;
  // A protocol still stopping comes back up by itself once it is down (run_decision).
  if (protocol_state_ == ProtocolState::kDown) protocol_start();
  run_decision();
}

void Session::stop(Time now, std::string_view message) {
  now_ = now;
  // bgp_shutdown, PDC_CMD_DISABLE: Cease / Administrative Shutdown with the message (RFC 9003),
  // the error wait forgotten, and no error shown ("" class, BE_MAN_DOWN).
  trace("Shutdown requested");
  disabled_ = true;
  if (protocol_state_ == ProtocolState::kStart || protocol_state_ == ProtocolState::kUp) {
    store_error(nullptr, ErrorClass::kManualDown, "");
    error_wait_s_ = 0;
    stop_protocol(
        bgp_wire::Notification::cease(bgp_wire::CeaseSubcode::kAdministrativeShutdown, message));
  }
  run_decision();
}

void Session::on_connected(Time now, ConnectionId id, bool we_initiated) {
  now_ = now;
  if (we_initiated) {
    if (outgoing_.id == id && outgoing_.state == State::kConnect) {
      trace("Connected");  // bgp_connected
      send_open(outgoing_);
    } else {
      // A connect the session gave up on (connect retry, collision) completed after all.
      trace(fmt::format("Connection {} is not ours any more, closing it", id.value));
      actions_.emplace_back(CloseAction{id});
    }
    run_decision();
    return;
  }

  CALISIM_CHECK((id.value & ConnectionId::kSessionAllocated) == 0,
                "incoming connection ids must not have kSessionAllocated set");
  CALISIM_CHECK(incoming_.id != id, "incoming connection id already in use");

  // bgp_incoming_connection: one incoming connection at a time, and none before the protocol
  // has started connecting (during the error wait a peer's connection is refused).
  bool accept =
      (protocol_state_ == ProtocolState::kStart || protocol_state_ == ProtocolState::kUp) &&
      start_state_ == StartState::kConnect && !incoming_.id;

  // A GR-capable peer that connects while we are Established has restarted: drop the old
  // connection, keep its routes stale, and take the new one.
  if (established_ != nullptr && established_->state == State::kEstablished && gr_ready_) {
    Connection& old = *established_;
    store_error(nullptr, ErrorClass::kMisc, "Graceful restart");
    handle_graceful_restart();
    enter_idle(old, "Error: Graceful restart");
    accept = true;
    // There may be a separate incoming connection in OpenSent: BIRD frees its socket and
    // reuses the slot without a state change.
    if (incoming_.state > State::kActive) close_connection(incoming_);
  }

  trace(fmt::format("Incoming connection from {} {}", config_.peer_address,
                    accept ? "accepted" : "rejected"));
  if (!accept) {
    actions_.emplace_back(CloseAction{id});
    run_decision();
    return;
  }
  incoming_.id = id;
  incoming_.framer = bgp_wire::MessageFramer();
  send_open(incoming_);
  run_decision();
}

void Session::on_connect_failed(Time now, ConnectionId id, std::string_view error) {
  now_ = now;
  if (outgoing_.id == id && outgoing_.state == State::kConnect) socket_error(outgoing_, error);
  run_decision();
}

void Session::on_bytes(Time now, ConnectionId id, wire::Bytes bytes) {
  now_ = now;
  Connection* conn = find(id);
  // BIRD stops reading once a connection is closing (rx_hook cleared in
  // bgp_conn_enter_close_state).
  if (conn == nullptr || conn->state == State::kClose || conn->state == State::kIdle) return;
  conn->framer.push(bytes);
  while (conn->id == id && conn->state != State::kClose && conn->state != State::kIdle) {
    auto next = conn->framer.next();
    if (!next) {
      error(*conn, next.error().notification, next.error().reason);
      break;
    }
    if (!*next) break;
    receive(*conn, **next);
  }
  run_decision();
}

void Session::on_closed(Time now, ConnectionId id, std::string_view error) {
  now_ = now;
  Connection* conn = find(id);
  if (conn != nullptr && conn->state != State::kIdle) socket_error(*conn, error);
  run_decision();
}

void Session::on_timer(Time now) {
  now_ = now;
  fire_timers();
  run_decision();
}

// ---- outputs --------------------------------------------------------------------------------

std::optional<Action> Session::poll_action() {
  if (actions_.empty()) return std::nullopt;
  Action a = std::move(actions_.front());
  actions_.pop_front();
  return a;
}

std::optional<Time> Session::next_deadline() const {
  std::optional<Time> best;
  auto consider = [&best](const std::optional<Time>& t) {
    if (t && (!best || *t < *best)) best = t;
  };
  consider(startup_deadline_);
  consider(gr_deadline_);
  for (const Connection* c : {&outgoing_, &incoming_}) {
    consider(c->connect_deadline);
    consider(c->hold_deadline);
    consider(c->keepalive_deadline);
  }
  return best;
}

State Session::state() const {
  return std::max(outgoing_.state, incoming_.state);
}

State Session::connection_state(ConnectionRole role) const {
  return role == ConnectionRole::kOutgoing ? outgoing_.state : incoming_.state;
}

std::optional<ConnectionId> Session::connection_id(ConnectionRole role) const {
  return role == ConnectionRole::kOutgoing ? outgoing_.id : incoming_.id;
}

std::optional<bgp_wire::CodecContext> Session::codec_context() const {
  if (established_ == nullptr) return std::nullopt;
  return established_->codec;
}

bool Session::enhanced_route_refresh() const {
  return established_ != nullptr && config_.enable_route_refresh && established_->remote_open &&
         established_->remote_open->has_capability(bgp_wire::CapabilityCode::kEnhancedRouteRefresh);
}

// ---- state ----------------------------------------------------------------------------------

// bgp_conn_set_state: the one place a connection changes state.
void Session::set_state(Connection& conn, State next, std::string_view reason) {
  state_log_.push_back(StateLogEntry{StateLogEntry::Kind::kConnection,
                                     static_cast<std::uint32_t>(transitions_.size())});
  transitions_.push_back(Transition{now_, conn.role, conn.state, next, std::string(reason)});
  conn.state = next;
}

// proto_notify_state. Leaving Up (or a held graceful restart) for Stop is when the peer's
// routes go: the DownEvent.
void Session::set_protocol_state(ProtocolState next) {
  if (next == protocol_state_) return;
  const ProtocolState previous = protocol_state_;
  state_log_.push_back(StateLogEntry{StateLogEntry::Kind::kProtocol,
                                     static_cast<std::uint32_t>(protocol_transitions_.size())});
  protocol_transitions_.push_back(ProtocolTransition{now_, previous, next});
  protocol_state_ = next;
  protocol_since_ = now_;
  if (next == ProtocolState::kStop && (previous == ProtocolState::kUp || gr_active_)) {
    std::string reason = std::string(error_class_prefix(last_error_class_)) + last_error_;
    if (reason.empty()) reason = "Shutdown requested";
    gr_active_ = false;
    gr_deadline_.reset();
    actions_.emplace_back(DownEvent{std::move(reason)});
  }
}

// bgp_start_timer: "The randomization procedure is specified in RFC 4271 section 10":
// time - random() % (time/4 + 1), in BIRD's microseconds (btime). A timer of t seconds fires
// uniformly in [0.75 t, t]; its mean is t - t/8. (Calico's BIRD 1.6 fork draws the same range in
// whole seconds: value - value/4 + random() % (value/4 + 1), sysdep/unix/io.c tm_start.)
// A time of 0 means the timer is not running.
std::optional<Time> Session::start_timer(std::uint32_t seconds) {
  if (seconds == 0) return std::nullopt;
  const std::int64_t time_us = std::int64_t{seconds} * 1'000'000;
  const auto randomize =
      static_cast<std::int64_t>(rng_.uniform(static_cast<std::uint64_t>(time_us / 4 + 1)));
  return now_ + Duration::microseconds(time_us - randomize);
}

void Session::trace(std::string text) {
  log_.push_back(LogEntry{now_, std::move(text)});
}

Session::Connection* Session::find(ConnectionId id) {
  if (outgoing_.id == id) return &outgoing_;
  if (incoming_.id == id) return &incoming_;
  return nullptr;
}

// bgp_start, bgp_start_locked, bgp_start_neighbor: the neighbour is taken as reachable at once.
void Session::protocol_start() {
  set_protocol_state(ProtocolState::kStart);
  start_state_ = StartState::kPrepare;
  established_ = nullptr;
  neighbor_id_ = {};
  gr_ready_ = false;
  gr_active_ = false;
  gr_deadline_.reset();
  decision_pending_ = false;
  // "Reset some stats": BIRD counts messages per protocol run.
  const std::uint64_t established = counters_.established_transitions;
  counters_ = {};
  counters_.established_transitions = established;
  initiate();
}

// bgp_initiate: the error wait (startup delay) runs first, if there is one.
void Session::initiate() {
  if (error_wait_s_ > 0) {
    start_state_ = StartState::kDelay;
    trace(fmt::format("Startup delayed by {} seconds due to errors", error_wait_s_));
    startup_deadline_ = start_timer(error_wait_s_);
  } else {
    startup();
  }
}

// bgp_startup
void Session::startup() {
  trace("Started");
  start_state_ = StartState::kConnect;
  if (!config_.passive) go_active();
}

// bgp_active: "connect delay time" is spent in Active before every connect, at least 1 s.
void Session::go_active() {
  const std::uint32_t delay = std::max<std::uint32_t>(1, config_.connect_delay_time_s);
  trace(fmt::format("Connect delayed by {} seconds", delay));
  set_state(outgoing_, State::kActive, "connect delay");
  outgoing_.connect_deadline = start_timer(delay);
}

// bgp_connect: one attempt, given `connect retry time` to complete.
void Session::connect() {
  const ConnectionId id{ConnectionId::kSessionAllocated | next_connection_id_++};
  trace(fmt::format("Connecting to {} from local address {}", config_.peer_address,
                    config_.local_address));
  outgoing_.id = id;
  outgoing_.framer = bgp_wire::MessageFramer();
  set_state(outgoing_, State::kConnect, "connecting");
  actions_.emplace_back(ConnectAction{id});
  outgoing_.connect_deadline = start_timer(config_.connect_retry_time_s);
}

// bgp_send_open: OPEN out, then OpenSent with the startup hold time.
void Session::send_open(Connection& conn) {
  conn.connect_deadline.reset();
  std::vector<std::uint8_t> bytes;
  auto r = bgp_wire::encode_open(local_open(config_), bytes);
  CALISIM_CHECK(r.has_value(), "bgp: our own OPEN does not encode");
  send_message(conn, bgp_wire::MessageType::kOpen, std::move(bytes));
  set_state(conn, State::kOpenSent, "OPEN sent");
  conn.hold_deadline = start_timer(config_.startup_hold_time_s);
}

// bgp_close_conn: the socket and timers go; the state is the caller's business.
void Session::close_connection(Connection& conn) {
  conn.connect_deadline.reset();
  conn.hold_deadline.reset();
  conn.keepalive_deadline.reset();
  conn.remote_open.reset();
  if (conn.id) actions_.emplace_back(CloseAction{*conn.id});
  conn.id.reset();
}

// bgp_conn_enter_close_state. BIRD then waits for the NOTIFICATION to leave the socket buffer
// (at most 10 s) before going Idle; here the caller delivers what was sent before a Close, so
// enter_idle follows at once.
void Session::enter_close(Connection& conn) {
  const State old = conn.state;
  set_state(conn, State::kClose, "NOTIFICATION");
  conn.keepalive_deadline.reset();
  conn.hold_deadline.reset();
  if (old == State::kEstablished) leave_established();
}

// bgp_conn_enter_idle_state
void Session::enter_idle(Connection& conn, std::string_view reason) {
  const State old = conn.state;
  close_connection(conn);
  set_state(conn, State::kIdle, reason);
  decision_pending_ = true;
  if (old == State::kEstablished) leave_established();
}

// bgp_conn_leave_established_state
void Session::leave_established() {
  trace("BGP session closed");
  established_ = nullptr;
  if (protocol_state_ == ProtocolState::kUp) {
    stop_protocol(bgp_wire::Notification{
        static_cast<std::uint8_t>(bgp_wire::ErrorCode::kCease), bgp_wire::kUnspecificSubcode, {}});
  }
}

// bgp_stop: every connection past Active gets the Cease (6/0 when the stop follows an error on
// another connection), the others are dropped.
void Session::stop_protocol(std::optional<bgp_wire::Notification> cease) {
  set_protocol_state(ProtocolState::kStop);
  const bgp_wire::Notification n =
      cease ? *cease
            : bgp_wire::Notification{static_cast<std::uint8_t>(bgp_wire::ErrorCode::kCease),
                                     bgp_wire::kUnspecificSubcode,
                                     {}};
  graceful_close(outgoing_, n);
  graceful_close(incoming_, n);
  decision_pending_ = true;
}

// bgp_graceful_close_conn
void Session::graceful_close(Connection& conn, const bgp_wire::Notification& cease) {
  switch (conn.state) {
    case State::kIdle:
    case State::kClose:
      return;
    case State::kConnect:
    case State::kActive:
      enter_idle(conn, "protocol stopped");
      return;
    case State::kOpenSent:
    case State::kOpenConfirm:
    case State::kEstablished:
      error(conn, cease, "protocol stopped");
      return;
  }
}

// bgp_error: NOTIFICATION out, connection closed. Anything but a Cease also counts as a
// protocol error (error wait) and stops the protocol.
void Session::error(Connection& conn, bgp_wire::Notification notification,
                    std::string_view reason) {
  if (conn.state == State::kClose || conn.state == State::kIdle) return;
  trace(fmt::format("Error: {}{}", bgp_wire::describe(notification),
                    reason.empty() ? std::string() : fmt::format(" ({})", reason)));
  store_error(&conn, ErrorClass::kSent,
              bgp_wire::notification_name(notification.code, notification.subcode));
  std::vector<std::uint8_t> bytes;
  auto r = bgp_wire::encode_notification(notification, bytes);
  if (!r) {
    // Data too long for one message: send the code and subcode alone.
    bytes.clear();
    (void)bgp_wire::encode_notification(
        bgp_wire::Notification{notification.code, notification.subcode, {}}, bytes);
  }
  send_message(conn, bgp_wire::MessageType::kNotification, std::move(bytes));
  enter_close(conn);
  enter_idle(conn, fmt::format("BGP Error: {}", bgp_wire::notification_name(notification.code,
                                                                            notification.subcode)));
  if (notification.code != static_cast<std::uint8_t>(bgp_wire::ErrorCode::kCease)) {
    update_error_wait();
    stop_protocol(std::nullopt);
  }
}

// bgp_sock_err
void Session::socket_error(Connection& conn, std::string_view error) {
  const std::string message = error.empty() ? std::string("Connection closed") : std::string(error);
  store_error(&conn, ErrorClass::kSocket, message);
  trace(error.empty() ? std::string("Connection closed")
                      : fmt::format("Connection lost ({})", error));
  if (conn.state == State::kEstablished && gr_ready_) handle_graceful_restart();
  enter_idle(conn, fmt::format("Socket: {}", message));
}

// bgp_update_startup_delay: min, then doubling to max; forgotten when this error comes
// `error forget time` or more after the previous one.
void Session::update_error_wait() {
  if (last_protocol_error_ &&
      now_ - *last_protocol_error_ >=
          Duration::seconds(static_cast<std::int64_t>(config_.error_forget_time_s))) {
    error_wait_s_ = 0;
  }
  last_protocol_error_ = now_;
  error_wait_s_ = error_wait_s_ == 0 ? config_.error_wait_min_s
                                     : std::min(2 * error_wait_s_, config_.error_wait_max_s);
}

// bgp_store_error: while Up only the Established connection's errors count; while stopping,
// the error that caused the stop stays.
void Session::store_error(const Connection* conn, ErrorClass error_class, std::string message) {
  if (protocol_state_ == ProtocolState::kUp && conn != nullptr && conn != established_) return;
  if (protocol_state_ == ProtocolState::kStop) return;
  last_error_class_ = error_class;
  last_error_ = std::move(message);
}

// bgp_handle_graceful_restart: the protocol goes back to Start with the routes kept, for the
// peer's restart time (tm_start: this timer is not jittered).
void Session::handle_graceful_restart() {
  trace(gr_active_ ? "Neighbor graceful restart detected - already pending"
                   : "Neighbor graceful restart detected");
  // A restart while one is pending ends the old refresh cycle and begins a new one.
  if (gr_active_) actions_.emplace_back(GracefulRestartDoneEvent{});
  gr_active_ = true;
  std::uint16_t restart_time_s = 0;
  if (established_ != nullptr && established_->remote_open) {
    if (const auto* gr = established_->remote_open->graceful_restart()) {
      restart_time_s = gr->restart_time_s;
    }
  }
  const Time deadline = now_ + Duration::seconds(restart_time_s);
  set_protocol_state(ProtocolState::kStart);
  gr_deadline_ = deadline;
  actions_.emplace_back(GracefulRestartEvent{deadline});
}

// bgp_graceful_restart_done
void Session::graceful_restart_done() {
  if (!gr_active_) return;
  gr_active_ = false;
  gr_deadline_.reset();
  trace("Neighbor graceful restart done");
  actions_.emplace_back(GracefulRestartDoneEvent{});
}

// bgp_conn_enter_established_state
void Session::enter_established(Connection& conn) {
  trace("BGP session established");
  counters_.established_transitions++;
  established_ = &conn;
  last_error_class_ = ErrorClass::kNone;
  last_error_.clear();

  const bgp_wire::Open& peer = *conn.remote_open;
  const bgp_wire::GracefulRestartCapability* gr = peer.graceful_restart();
  const bgp_wire::GracefulRestartCapability::Family* gr_ipv4 = nullptr;
  if (gr != nullptr) {
    for (const auto& f : gr->families) {
      if (f.family == bgp_wire::kIpv4Unicast) gr_ipv4 = &f;
    }
  }
  // We may keep the peer's routes over its restart: we are GR aware and it listed IPv4.
  gr_ready_ = config_.graceful_restart != GracefulRestartMode::kOff && gr_ipv4 != nullptr;
  // bgp_conn_enter_established_state: "GR capability implies that neighbor will send
  // End-of-RIB"; until then a BoRR from it is ignored.
  load_state_ = gr != nullptr ? LoadState::kLoading : LoadState::kNone;
  if (gr_active_) {
    gr_deadline_.reset();
    // "Channels where regular graceful restart failed": the peer did not keep its forwarding
    // state, so the stale routes go now rather than after its End-of-RIB.
    if (gr_ipv4 == nullptr || !gr_ipv4->forwarding_preserved) graceful_restart_done();
  }

  set_state(conn, State::kEstablished, "KEEPALIVE received");
  set_protocol_state(ProtocolState::kUp);
  actions_.emplace_back(
      EstablishedEvent{*conn.id, neighbor_id_, conn.hold_time_s, conn.keepalive_time_s});
}

// bgp_decision, and the core restarting a protocol that went down (proto_rethink_goal).
void Session::run_decision() {
  while (decision_pending_) {
    decision_pending_ = false;
    if (protocol_state_ == ProtocolState::kStart && start_state_ == StartState::kConnect &&
        outgoing_.state == State::kIdle && incoming_.state != State::kOpenConfirm &&
        !config_.passive) {
      go_active();
    }
    if (protocol_state_ == ProtocolState::kStop && outgoing_.state == State::kIdle &&
        incoming_.state == State::kIdle) {
      trace("Down");  // bgp_down
      startup_deadline_.reset();
      gr_deadline_.reset();
      set_protocol_state(ProtocolState::kDown);
      if (!disabled_) protocol_start();
    }
  }
}

void Session::fire_timers() {
  enum class Which { kStartup, kGracefulRestart, kConnect, kHold, kKeepalive };
  for (;;) {
    std::optional<Time>* due = nullptr;
    Which which = Which::kStartup;
    Connection* conn = nullptr;
    auto consider = [&](std::optional<Time>& t, Which w, Connection* c) {
      if (t && *t <= now_ && (due == nullptr || *t < **due)) {
        due = &t;
        which = w;
        conn = c;
      }
    };
    consider(startup_deadline_, Which::kStartup, nullptr);
    consider(gr_deadline_, Which::kGracefulRestart, nullptr);
    for (Connection* c : {&outgoing_, &incoming_}) {
      consider(c->connect_deadline, Which::kConnect, c);
      consider(c->hold_deadline, Which::kHold, c);
      consider(c->keepalive_deadline, Which::kKeepalive, c);
    }
    if (due == nullptr) return;
    due->reset();

    switch (which) {
      case Which::kStartup:  // bgp_startup_timeout
        startup();
        break;
      case Which::kGracefulRestart:  // bgp_graceful_restart_timeout
        trace("Neighbor graceful restart timeout");
        stop_protocol(std::nullopt);
        break;
      case Which::kConnect:  // bgp_connect_timeout
        if (protocol_state_ == ProtocolState::kStart) {
          close_connection(*conn);
          connect();
        } else {
          enter_idle(*conn, "connect timer expired");
        }
        break;
      case Which::kHold:  // bgp_hold_timeout
        error(*conn, bgp_wire::Notification::hold_timer_expired(), "hold timer expired");
        break;
      case Which::kKeepalive:  // bgp_keepalive_timeout
        send_keepalive(*conn);
        break;
    }
    run_decision();
  }
}

}  // namespace calisim::bgp
