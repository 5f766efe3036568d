// Sending messages: the RIB's UPDATEs, End-of-RIB and ROUTE-REFRESH, and the session's own
// KEEPALIVEs, after BIRD 2.0.12 proto/bgp/packets.c (bgp_fire_tx, bgp_send).

#include <calisim/bgp/session.hpp>

#include <utility>

namespace calisim::bgp {

namespace bgp_wire = wire::bgp;

Result<void> Session::send_update(Time now, const bgp_wire::Update& update) {
  now_ = now;
  if (established_ == nullptr) {
    return make_error(Errc::kUnavailable, "bgp: session is not established");
  }
  std::vector<std::uint8_t> bytes;
  auto r = bgp_wire::encode_update(update, established_->codec, bytes);
  if (!r) return std::unexpected(r.error());
  counters_.updates_out++;
  send_message(*established_, bgp_wire::MessageType::kUpdate, std::move(bytes));
  return {};
}

Result<void> Session::send_end_of_rib(Time now, bgp_wire::AfiSafi family) {
  now_ = now;
  if (established_ == nullptr) {
    return make_error(Errc::kUnavailable, "bgp: session is not established");
  }
  std::vector<std::uint8_t> bytes;
  bgp_wire::encode_end_of_rib(family, bytes);
  counters_.updates_out++;
  send_message(*established_, bgp_wire::MessageType::kUpdate, std::move(bytes));
  return {};
}

Result<void> Session::send_route_refresh(Time now, bgp_wire::AfiSafi family) {
  now_ = now;
  if (established_ == nullptr) {
    return make_error(Errc::kUnavailable, "bgp: session is not established");
  }
  // bgp_reload_routes: only to a peer that announced capability 2.
  const auto& peer = established_->remote_open;
  if (!peer || !peer->has_capability(bgp_wire::CapabilityCode::kRouteRefresh)) {
    return make_error(Errc::kUnsupported, "bgp: peer does not support route refresh");
  }
  std::vector<std::uint8_t> bytes;
  bgp_wire::encode_route_refresh(bgp_wire::RouteRefresh{family, 0}, bytes);
  send_message(*established_, bgp_wire::MessageType::kRouteRefresh, std::move(bytes));
  return {};
}

// bgp_send: BIRD's message counters.
void Session::send_message(Connection& conn, bgp_wire::MessageType type,
                           std::vector<std::uint8_t> bytes) {
  counters_.messages_out++;
  counters_.bytes_out += bytes.size();
  switch (type) {
    case bgp_wire::MessageType::kOpen:
      counters_.opens_out++;
      break;
    case bgp_wire::MessageType::kUpdate:
      break;  // counted by the callers, as BIRD does
    case bgp_wire::MessageType::kNotification:
      counters_.notifications_out++;
      break;
    case bgp_wire::MessageType::kKeepalive:
      counters_.keepalives_out++;
      break;
    case bgp_wire::MessageType::kRouteRefresh:
      counters_.route_refreshes_out++;
      break;
  }
  CALISIM_CHECK(conn.id.has_value(), "bgp: sending on a connection without a socket");
  actions_.emplace_back(SendAction{*conn.id, type, std::move(bytes)});
}

// packets.c bgp_fire_tx: sending a KEEPALIVE is what (re)starts the keepalive timer; UPDATEs
// do not touch it. Keepalive time 0 (hold time 0) means no timer at all.
void Session::send_keepalive(Connection& conn) {
  std::vector<std::uint8_t> bytes;
  bgp_wire::encode_keepalive(bytes);
  send_message(conn, bgp_wire::MessageType::kKeepalive, std::move(bytes));
  conn.keepalive_deadline = start_timer(conn.keepalive_time_s);
}

}  // namespace calisim::bgp
