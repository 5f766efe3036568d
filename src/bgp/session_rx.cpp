// Receiving messages on a connection, after BIRD 2.0.12 proto/bgp/packets.c (bgp_rx_packet and
// the bgp_rx_* handlers). As in BIRD each handler checks the connection's state before the
// message's content: an OPEN on an Established connection is an FSM error (RFC 6608) whatever
// it holds.

#include <calisim/bgp/session.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace calisim::bgp {

namespace bgp_wire = wire::bgp;

namespace {

bgp_wire::Notification open_error(bgp_wire::OpenErrorSubcode subcode,
                                  std::vector<std::uint8_t> data = {}) {
  return bgp_wire::Notification::open(subcode, std::move(data));
}

std::vector<std::uint8_t> be16(std::uint16_t v) {
  return {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

// An IPv6 address as BIRD's %I prints it (lib/ip.c ip6_ntop: RFC 5952 text, as inet_ntop).
std::string ipv6_text(std::span<const std::uint8_t, 16> address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(AF_INET6, address.data(), text, sizeof(text)) == nullptr) return "?";
  return text;
}

}  // namespace

// bgp_rx_packet
void Session::receive(Connection& conn, wire::Bytes message) {
  counters_.messages_in++;
  counters_.bytes_in += message.size();
  const std::uint8_t type = message[bgp_wire::kHeaderLength - 1];
  switch (static_cast<bgp_wire::MessageType>(type)) {
    case bgp_wire::MessageType::kOpen:
      counters_.opens_in++;
      receive_open(conn, message);
      return;
    case bgp_wire::MessageType::kUpdate:
      counters_.updates_in++;  // p->stats.rx_updates, before any check
      receive_update(conn, message);
      return;
    case bgp_wire::MessageType::kNotification:
      counters_.notifications_in++;
      receive_notification(conn, message);
      return;
    case bgp_wire::MessageType::kKeepalive:
      counters_.keepalives_in++;
      receive_keepalive(conn);
      return;
    case bgp_wire::MessageType::kRouteRefresh:
      counters_.route_refreshes_in++;
      receive_route_refresh(conn, message);
      return;
  }
  error(conn, bgp_wire::Notification::header(bgp_wire::HeaderErrorSubcode::kBadMessageType, {type}),
        fmt::format("message type {}", type));
}

// RFC 6608 §3 subcodes by state (packets.c fsm_err_subcode).
void Session::fsm_error(Connection& conn) {
  bgp_wire::FsmErrorSubcode subcode = bgp_wire::FsmErrorSubcode::kUnspecified;
  if (conn.state == State::kOpenSent)
    subcode = bgp_wire::FsmErrorSubcode::kUnexpectedMessageInOpenSent;
  if (conn.state == State::kOpenConfirm) {
    subcode = bgp_wire::FsmErrorSubcode::kUnexpectedMessageInOpenConfirm;
  }
  if (conn.state == State::kEstablished) {
    subcode = bgp_wire::FsmErrorSubcode::kUnexpectedMessageInEstablished;
  }
  error(conn, bgp_wire::Notification::fsm(subcode), "unexpected message");
}

// bgp_rx_open, in BIRD's order: state, the message itself (decode_open), hold time, BGP
// identifier, capabilities, peer AS; then the other connection (collision); then OpenConfirm
// with the first KEEPALIVE on its way.
void Session::receive_open(Connection& conn, wire::Bytes message) {
  if (conn.state != State::kOpenSent) {
    fsm_error(conn);
    return;
  }
  auto decoded = bgp_wire::decode_open(message);
  if (!decoded) {
    error(conn, decoded.error().notification, decoded.error().reason);
    return;
  }
  bgp_wire::Open open = std::move(*decoded);
  trace(fmt::format("Got OPEN(as={},hold={},id={})", open.my_as, open.hold_time_s,
                    open.bgp_identifier));

  // Effective hold and keepalive times: the smaller hold time; keepalive a third of it, or the
  // configured keepalive scaled down with the hold time; never 0 unless the hold time is.
  const std::uint16_t hold = std::min(open.hold_time_s, config_.hold_time_s);
  std::uint16_t keepalive =
      config_.keepalive_time_s != 0 && config_.hold_time_s != 0
          ? static_cast<std::uint16_t>(std::uint32_t{config_.keepalive_time_s} * hold /
                                       config_.hold_time_s)
          : static_cast<std::uint16_t>(hold / 3);
  if (hold != 0 && keepalive == 0) keepalive = 1;
  if (hold < config_.min_hold_time_s || keepalive < config_.min_keepalive_time_s) {
    error(conn,
          open_error(bgp_wire::OpenErrorSubcode::kUnacceptableHoldTime, be16(open.hold_time_s)),
          fmt::format("OPEN: hold time {} s is below the minimum", open.hold_time_s));
    return;
  }

  const bool internal = config_.local_as == config_.peer_as;
  bgp_wire::OpenExpectations expect{open.as_number(), config_.router_id, internal, 0};
  // Identifier (RFC 6286 §2.2) first: the AS is checked after the capabilities.
  if (auto bad = bgp_wire::validate_open(open, expect)) {
    error(conn, bad->notification, bad->reason);
    return;
  }
  // bgp_check_capabilities: at least one channel (here IPv4 unicast) both sides announced, or
  // a peer that sent no capabilities at all.
  if (!open.supports(bgp_wire::kIpv4Unicast)) {
    error(conn, open_error(bgp_wire::OpenErrorSubcode::kUnsupportedCapability),
          "OPEN: no multiprotocol capability for IPv4 unicast");
    return;
  }
  expect.peer_as = config_.peer_as;
  if (auto bad = bgp_wire::validate_open(open, expect)) {
    error(conn, bad->notification, bad->reason);
    return;
  }
  if (const auto as4 = open.four_octet_as();
      as4 && *as4 != open.my_as && open.my_as != bgp_wire::kAsTrans) {
    trace("Peer advertised inconsistent AS numbers");
  }

  // Collision (RFC 4271 §6.8), decided only once the other connection has the peer's OPEN too.
  Connection& that = other(conn);
  switch (that.state) {
    case State::kConnect:
    case State::kActive:
      enter_idle(that, "OPEN received on the other connection");  // stop connecting
      break;
    case State::kIdle:
    case State::kOpenSent:
    case State::kClose:
      break;
    case State::kOpenConfirm: {
      // The router with the higher identifier (then the higher AS, RFC 6286 §2.3) is dominant;
      // the connection it initiated stays.
      const std::uint32_t local_id = config_.router_id.value();
      const std::uint32_t peer_id = open.bgp_identifier.value();
      const bool peer_dominant =
          local_id < peer_id || (local_id == peer_id && config_.local_as < config_.peer_as);
      if (peer_dominant == (conn.role == ConnectionRole::kIncoming)) {
        trace("Connection collision, giving up the other connection");
        error(that,
              bgp_wire::Notification::cease(bgp_wire::CeaseSubcode::kConnectionCollisionResolution),
              "connection collision");
        break;
      }
      trace("Connection collision, giving up this connection");
      error(conn,
            bgp_wire::Notification::cease(bgp_wire::CeaseSubcode::kConnectionCollisionResolution),
            "connection collision");
      return;
    }
    case State::kEstablished:
      trace("Connection collision, giving up this connection");
      error(conn,
            bgp_wire::Notification::cease(bgp_wire::CeaseSubcode::kConnectionCollisionResolution),
            "connection collision");
      return;
  }

  conn.hold_time_s = hold;
  conn.keepalive_time_s = keepalive;
  conn.codec.four_octet_as = config_.enable_as4 && open.four_octet_as().has_value();
  conn.codec.internal = internal;
  neighbor_id_ = open.bgp_identifier;
  conn.remote_open = std::move(open);

  // The hold timer with the negotiated time, OpenConfirm, and the first KEEPALIVE, which also
  // starts the keepalive timer when it goes out (bgp_fire_tx).
  conn.hold_deadline = start_timer(hold);
  set_state(conn, State::kOpenConfirm, "OPEN received");
  send_keepalive(conn);
}

// bgp_rx_update
void Session::receive_update(Connection& conn, wire::Bytes message) {
  // "Workaround for some BGP implementations that skip initial KEEPALIVE"
  if (conn.state == State::kOpenConfirm) enter_established(conn);
  if (conn.state != State::kEstablished) {
    fsm_error(conn);
    return;
  }
  conn.hold_deadline = start_timer(conn.hold_time_s);

  bgp_wire::UpdateDecodeResult r = bgp_wire::decode_update(message, conn.codec);
  if (r.notification) {
    std::string reason =
        r.update.errors.empty() ? std::string("UPDATE: malformed") : r.update.errors.back().reason;
    error(conn, std::move(*r.notification), reason);
    return;
  }
  const bgp_wire::DecodedUpdate& u = r.update;

  if (const auto family = u.end_of_rib()) {
    trace("Got END-OF-RIB");
    if (*family != bgp_wire::kIpv4Unicast) {
      trace(fmt::format("Unexpected AF <{}/{}> in UPDATE", family->afi, family->safi));
      return;
    }
    if (load_state_ == LoadState::kLoading) load_state_ = LoadState::kNone;  // bgp_rx_end_mark
    actions_.emplace_back(EndOfRibReceivedEvent{*family});
    graceful_restart_done();  // bgp_rx_end_mark: the refreshed routes are all there
    return;
  }

  // RFC 7606: milder errors keep the session; each is logged as BIRD logs them
  // (attrs.c REPORT/WITHDRAW/DISCARD).
  for (const auto& e : u.errors) {
    trace(fmt::format("{} - {}", e.reason, bgp_wire::to_string(e.action)));
  }
  UpdateReceivedEvent event{u.to_update(), u.action, u.errors};
  if (u.action == bgp_wire::UpdateAction::kTreatAsWithdraw) {
    bgp_wire::Update& w = event.update;
    w.withdrawn.insert(w.withdrawn.end(), w.nlri.begin(), w.nlri.end());
    w.nlri.clear();
    if (u.attributes.mp_reach && u.attributes.mp_reach->family == bgp_wire::kIpv4Unicast) {
      if (auto mp = bgp_wire::PrefixListView::parse(u.attributes.mp_reach->nlri)) {
        for (const auto& p : *mp) w.withdrawn.push_back(p);
      }
    }
    bgp_wire::PathAttributes kept;
    kept.mp_unreach = std::move(w.attributes.mp_unreach);
    w.attributes = std::move(kept);
  }
  receive_mp_nlri(u, event);
}

// bgp_rx_update's MP part: MP_UNREACH_NLRI after the Withdrawn Routes, MP_REACH_NLRI after the
// NLRI field, each for the channel of its family (bgp_decode_nlri). calisim has the IPv4
// unicast channel only: other families are "Unexpected AF" and ignored (DISCARD BAD_AFI). The
// MP_REACH next hop (bgp_decode_next_hop_ip) is 4 octets, or 16 / 32 of which the first IPv6
// address counts; without extended next hop (RFC 8950, not negotiated) an IPv6 one is a
// mismatched family and its routes are treated as withdrawn, as is a zero address
// (bgp_apply_next_hop). Lengths other than 4, 16 and 32 never get here: decode_update resets
// the session with 3/9 as BIRD's bgp_parse_error(s, 9) does.
void Session::receive_mp_nlri(const bgp_wire::DecodedUpdate& u, UpdateReceivedEvent& event) {
  const bgp_wire::PathAttributes& a = u.attributes;
  bgp_wire::Update& first = event.update;
  if (a.mp_unreach) {
    if (a.mp_unreach->family != bgp_wire::kIpv4Unicast) {
      trace(fmt::format("Unexpected AF <{}/{}> in UPDATE", a.mp_unreach->family.afi,
                        a.mp_unreach->family.safi));
    } else if (auto mp = bgp_wire::PrefixListView::parse(a.mp_unreach->withdrawn)) {
      for (const auto& p : *mp) first.withdrawn.push_back(p);
    }
  }
  std::optional<UpdateReceivedEvent> second;
  if (a.mp_reach && u.action != bgp_wire::UpdateAction::kTreatAsWithdraw) {
    const bgp_wire::MpReachNlri& mp = *a.mp_reach;
    auto prefixes = bgp_wire::PrefixListView::parse(mp.nlri);
    if (mp.family != bgp_wire::kIpv4Unicast) {
      trace(fmt::format("Unexpected AF <{}/{}> in UPDATE", mp.family.afi, mp.family.safi));
    } else if (prefixes && !prefixes->empty()) {
      second = UpdateReceivedEvent{{}, u.action, {}};
      bgp_wire::Update& w = second->update;
      std::optional<wire::Ipv4Address> next_hop;
      std::string invalid;
      const std::vector<std::uint8_t>& nh = mp.next_hop;
      if (nh.size() == 4) {
        next_hop = wire::Ipv4Address(wire::load_be32(nh.data()));
      } else {
        // The first address of 16 or 32 octets: an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
        // is an IPv4 one to BIRD (ipa_is_ip4).
        const bool mapped =
            std::all_of(nh.begin(), nh.begin() + 10, [](std::uint8_t b) { return b == 0; }) &&
            nh[10] == 0xff && nh[11] == 0xff;
        if (mapped) {
          next_hop = wire::Ipv4Address(wire::load_be32(nh.data() + 12));
        } else {
          invalid = fmt::format(
              "Invalid NEXT_HOP attribute - mismatched address family ({} for "
              "ipv4)",
              ipv6_text(std::span<const std::uint8_t, 16>(nh.data(), 16)));
        }
      }
      if (next_hop && next_hop->value() == 0) {
        invalid = "Invalid NEXT_HOP attribute - zero address";
      }
      if (!invalid.empty()) {
        trace(invalid);  // WITHDRAW(): REPORT, then the routes go as withdrawn
        w.withdrawn = prefixes->to_vector();
      } else {
        w.attributes = a;
        w.attributes.next_hop = next_hop;
        w.attributes.mp_reach.reset();
        w.attributes.mp_unreach.reset();
        w.nlri = prefixes->to_vector();
      }
    }
  }
  // The first event carries the withdrawals and the NLRI field; an UPDATE that had only
  // MP_REACH_NLRI routes needs none.
  if (!second || !first.withdrawn.empty() || !first.nlri.empty()) {
    actions_.emplace_back(std::move(event));
  }
  if (second) actions_.emplace_back(std::move(*second));
}

// bgp_rx_notification: a Cease closes this connection only; anything else is a protocol error
// (error wait) and stops the protocol.
void Session::receive_notification(Connection& conn, wire::Bytes message) {
  auto decoded = bgp_wire::decode_notification(message);
  if (!decoded) {
    error(conn, decoded.error().notification, decoded.error().reason);
    return;
  }
  const bgp_wire::Notification& n = *decoded;
  trace(fmt::format("Received: {}", bgp_wire::describe(n)));
  store_error(&conn, ErrorClass::kReceived, bgp_wire::notification_name(n.code, n.subcode));
  enter_close(conn);
  enter_idle(conn, fmt::format("Received: {}", bgp_wire::notification_name(n.code, n.subcode)));
  if (n.code != static_cast<std::uint8_t>(bgp_wire::ErrorCode::kCease)) {
    update_error_wait();
    stop_protocol(std::nullopt);
  }
}

// bgp_rx_keepalive (BIRD does not check a KEEPALIVE's length).
void Session::receive_keepalive(Connection& conn) {
  conn.hold_deadline = start_timer(conn.hold_time_s);
  if (conn.state == State::kOpenConfirm) {
    enter_established(conn);
    return;
  }
  if (conn.state != State::kEstablished) fsm_error(conn);
}

// bgp_rx_route_refresh
void Session::receive_route_refresh(Connection& conn, wire::Bytes message) {
  if (conn.state != State::kEstablished) {
    fsm_error(conn);
    return;
  }
  if (!config_.enable_route_refresh) {
    error(conn,
          bgp_wire::Notification::header(
              bgp_wire::HeaderErrorSubcode::kBadMessageType,
              {static_cast<std::uint8_t>(bgp_wire::MessageType::kRouteRefresh)}),
          "ROUTE-REFRESH without the capability");
    return;
  }
  auto decoded = bgp_wire::decode_route_refresh(message);
  if (!decoded) {
    error(conn, decoded.error().notification, decoded.error().reason);
    return;
  }
  bgp_wire::RouteRefresh refresh = *decoded;
  if (refresh.family != bgp_wire::kIpv4Unicast) {
    trace(fmt::format("Got ROUTE-REFRESH subtype {} for AF {}.{}, ignoring", refresh.subtype,
                      refresh.family.afi, refresh.family.safi));
    return;
  }
  // RFC 7313 gave the reserved octet a meaning only when both sides announced enhanced route
  // refresh; otherwise every ROUTE-REFRESH is a plain request.
  const bool enhanced =
      config_.enable_route_refresh && conn.remote_open &&
      conn.remote_open->has_capability(bgp_wire::CapabilityCode::kEnhancedRouteRefresh);
  if (!enhanced) refresh.subtype = 0;
  switch (refresh.subtype) {
    case 0:
      trace("Got ROUTE-REFRESH");
      break;
    case 1:  // bgp.c bgp_refresh_begin
      trace("Got BEGIN-OF-RR");
      if (load_state_ == LoadState::kLoading) {
        trace("BEGIN-OF-RR received before END-OF-RIB, ignoring");
        return;
      }
      load_state_ = LoadState::kRefreshing;
      break;
    case 2:  // bgp.c bgp_refresh_end
      trace("Got END-OF-RR");
      if (load_state_ != LoadState::kRefreshing) {
        trace("END-OF-RR received without prior BEGIN-OF-RR, ignoring");
        return;
      }
      load_state_ = LoadState::kNone;
      break;
    default:
      trace(fmt::format("Got ROUTE-REFRESH message with unknown subtype {}, ignoring",
                        refresh.subtype));
      return;
  }
  actions_.emplace_back(RouteRefreshReceivedEvent{refresh});
}

}  // namespace calisim::bgp
