// Names, the OPEN the session sends, and the status BIRD shows for a BGP protocol
// (proto/bgp/bgp.c bgp_state_dsc, bgp_last_errmsg, bgp_get_status; nest/proto.c).

#include <calisim/bgp/session.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace calisim::bgp {

namespace bgp_wire = wire::bgp;

std::string_view to_string(State state) {
  switch (state) {
    case State::kIdle:
      return "Idle";
    case State::kConnect:
      return "Connect";
    case State::kActive:
      return "Active";
    case State::kOpenSent:
      return "OpenSent";
    case State::kOpenConfirm:
      return "OpenConfirm";
    case State::kEstablished:
      return "Established";
    case State::kClose:
      return "Close";
  }
  return "Unknown";
}

// nest/proto.c proto_state_name ("flush" is a protocol still down and flushing routes: the
// RIB's business, not the session's).
std::string_view to_string(ProtocolState state) {
  switch (state) {
    case ProtocolState::kDown:
      return "down";
    case ProtocolState::kStart:
      return "start";
    case ProtocolState::kUp:
      return "up";
    case ProtocolState::kStop:
      return "stop";
  }
  return "???";
}

// bgp.c bgp_err_classes
std::string_view error_class_prefix(ErrorClass error_class) {
  switch (error_class) {
    case ErrorClass::kNone:
      return "";
    case ErrorClass::kMisc:
      return "Error: ";
    case ErrorClass::kSocket:
      return "Socket: ";
    case ErrorClass::kReceived:
      return "Received: ";
    case ErrorClass::kSent:
      return "BGP Error: ";
    case ErrorClass::kAutoDown:
      return "Automatic shutdown: ";
    case ErrorClass::kManualDown:
      return "";
  }
  return "";
}

std::string_view to_string(ConnectionRole role) {
  return role == ConnectionRole::kOutgoing ? "outgoing" : "incoming";
}

// nest/proto.c proto_log_state_change under `debug { states }` (Calico's bird.cfg sets it for
// every BGP protocol): "State changed to %s" with proto_state_name. A protocol entering
// PS_DOWN is still `active` while its channels flush (proto_do_down), so BIRD logs "flush";
// when the flush is done (proto_event) it logs "down". Here the flush completes at once.
std::size_t state_log_lines(const Session& session, StateLogEntry entry,
                            std::vector<std::string>& out) {
  if (entry.kind == StateLogEntry::Kind::kProtocol) {
    const ProtocolTransition& t = session.protocol_transitions().at(entry.index);
    if (t.to == ProtocolState::kDown) {
      out.emplace_back("State changed to flush");
      out.emplace_back("State changed to down");
      return 2;
    }
    out.push_back(fmt::format("State changed to {}", to_string(t.to)));
    return 1;
  }
  const Transition& t = session.transitions().at(entry.index);
  out.push_back(fmt::format("{} connection changed state from {} to {}{}",
                            t.role == ConnectionRole::kOutgoing ? "Outgoing" : "Incoming",
                            to_string(t.from), to_string(t.to),
                            t.reason.empty() ? std::string() : fmt::format(" ({})", t.reason)));
  return 1;
}

// packets.c bgp_prepare_capabilities and bgp_write_capabilities with Calico's options: one
// channel (IPv4 unicast), route refresh and enhanced route refresh (`enable route refresh`,
// on by default), graceful restart (time 120, IPv4 listed when `graceful restart` is on, no
// R or F bits outside a restart of our own), 4-octet AS, and long-lived graceful restart
// awareness, which BIRD turns on with graceful restart (bgp_postconfig) and sends without
// families.
wire::bgp::Open local_open(const SessionConfig& config) {
  bgp_wire::Open open = bgp_wire::Open::make(config.local_as, config.hold_time_s, config.router_id);
  open.capabilities.clear();
  open.capabilities.emplace_back(bgp_wire::MultiprotocolCapability{bgp_wire::kIpv4Unicast});
  if (config.enable_route_refresh)
    open.capabilities.emplace_back(bgp_wire::RouteRefreshCapability{});
  if (config.graceful_restart != GracefulRestartMode::kOff) {
    bgp_wire::GracefulRestartCapability gr;
    gr.restart_time_s = std::min(config.graceful_restart_time_s,
                                 bgp_wire::GracefulRestartCapability::kMaxRestartTime);
    if (config.graceful_restart == GracefulRestartMode::kAble) {
      gr.families.push_back({bgp_wire::kIpv4Unicast, false});
    }
    open.capabilities.emplace_back(std::move(gr));
  }
  if (config.enable_as4) {
    open.capabilities.emplace_back(bgp_wire::FourOctetAsCapability{config.local_as});
  }
  if (config.enable_route_refresh) {
    open.capabilities.emplace_back(bgp_wire::UnknownCapability{
        static_cast<std::uint8_t>(bgp_wire::CapabilityCode::kEnhancedRouteRefresh), {}});
  }
  if (config.graceful_restart != GracefulRestartMode::kOff) {
    open.capabilities.emplace_back(bgp_wire::UnknownCapability{
        static_cast<std::uint8_t>(bgp_wire::CapabilityCode::kLongLivedGracefulRestart), {}});
  }
  return open;
}

SessionStatus Session::status() const {
  SessionStatus s;
  s.protocol_state = protocol_state_;
  s.state = state();
  // bgp_state_dsc
  if (protocol_state_ == ProtocolState::kDown) {
    s.state_description = "Down";
  } else if (s.state == State::kIdle && start_state_ == StartState::kConnect && config_.passive) {
    s.state_description = "Passive";
  } else {
    s.state_description = std::string(to_string(s.state));
  }
  s.last_error_class = last_error_class_;
  s.last_error = std::string(error_class_prefix(last_error_class_)) + last_error_;
  // bgp_get_status
  s.info = protocol_state_ == ProtocolState::kDown
               ? s.last_error
               : fmt::format("{:<14}{}", s.state_description, s.last_error);
  s.since = protocol_since_;
  s.neighbor_id = neighbor_id_;
  if (established_ != nullptr) {
    s.hold_time_s = established_->hold_time_s;
    s.keepalive_time_s = established_->keepalive_time_s;
  }
  s.error_wait = Duration::seconds(error_wait_s_);
  s.graceful_restart_active = gr_active_;
  s.counters = counters_;
  return s;
}

}  // namespace calisim::bgp
