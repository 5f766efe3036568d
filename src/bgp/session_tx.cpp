// Sending messages: the RIB's UPDATEs, End-of-RIB and ROUTE-REFRESH, and the session's own
// KEEPALIVEs, after BIRD 2.0.12 proto/bgp/packets.c (bgp_fire_tx, bgp_send).

#include <calisim/bgp/session.hpp>

#include <utility>

#include <fmt/format.h>

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

Result<void> Session::send_route_refresh(Time now, bgp_wire::AfiSafi family, std::uint8_t subtype) {
  now_ = now;
  if (established_ == nullptr) {
    return make_error(Errc::kUnavailable, "bgp: session is not established");
  }
  // bgp_reload_routes: only to a peer that announced capability 2; BoRR / EoRR only when both
  // sides announced capability 70 (bgp_feed_begin).
  const auto& peer = established_->remote_open;
  if (!peer || !peer->has_capability(bgp_wire::CapabilityCode::kRouteRefresh)) {
    return make_error(Errc::kUnsupported, "bgp: peer does not support route refresh");
  }
  if (subtype != 0 && !enhanced_route_refresh()) {
    return make_error(Errc::kUnsupported, "bgp: enhanced route refresh was not negotiated");
  }
  trace(subtype == 0   ? "Sending ROUTE-REFRESH"
        : subtype == 1 ? "Sending BEGIN-OF-RR"
                       : "Sending END-OF-RR");
  std::vector<std::uint8_t> bytes;
  bgp_wire::encode_route_refresh(bgp_wire::RouteRefresh{family, subtype}, bytes);
  send_message(*established_, bgp_wire::MessageType::kRouteRefresh, std::move(bytes));
  return {};
}

namespace {

// packets.c: BGP_NLRI_MAX, the room bgp_encode_nlri_ip4 wants left before it adds a prefix
// (path id 4 + length 1 + 32 octets of address, whatever the family).
constexpr std::size_t kNlriMax = 4 + 1 + 32;

// How many prefixes from the front BIRD puts into `space` octets.
std::size_t bird_fill(std::span<const wire::Ipv4Prefix> prefixes, std::size_t space) {
  std::size_t n = 0;
  while (n < prefixes.size() && space >= kNlriMax) {
    space -= bgp_wire::encoded_prefix_length(prefixes[n]);
    ++n;
  }
  return n;
}

}  // namespace

Result<std::size_t> Session::send_announcement(Time now, const bgp_wire::PathAttributes& attributes,
                                               std::span<const wire::Ipv4Prefix> prefixes) {
  now_ = now;
  if (established_ == nullptr) {
    return make_error(Errc::kUnavailable, "bgp: session is not established");
  }
  if (prefixes.empty()) return 0;
  const bgp_wire::CodecContext& ctx = established_->codec;
  // The attributes alone (header, two lengths, attributes) give their length.
  std::vector<std::uint8_t> bytes;
  auto head = bgp_wire::encode_update({}, attributes, {}, ctx, bytes);
  if (!head) return std::unexpected(head.error());
  const std::size_t attributes_length = *head - bgp_wire::kMinUpdateLength;
  // bgp_create_ip_reach: the attributes may use MAX_ATTRS_LENGTH (message - 1024) from the
  // start of the body, the two length fields included.
  const std::size_t body = ctx.max_message_length - bgp_wire::kHeaderLength;
  const std::size_t max_attributes = body + bgp_wire::kHeaderLength - 1024 - 4;
  if (attributes_length > max_attributes) {
    return make_error(Errc::kOutOfRange,
                      fmt::format("bgp: {} octets of path attributes, BIRD allows {}",
                                  attributes_length, max_attributes));
  }
  const std::size_t n = bird_fill(prefixes, body - 4 - attributes_length);
  bytes.clear();
  auto r = bgp_wire::encode_update({}, attributes, prefixes.first(n), ctx, bytes);
  if (!r) return std::unexpected(r.error());
  counters_.updates_out++;
  send_message(*established_, bgp_wire::MessageType::kUpdate, std::move(bytes));
  return n;
}

Result<std::size_t> Session::send_withdrawal(Time now, std::span<const wire::Ipv4Prefix> prefixes) {
  now_ = now;
  if (established_ == nullptr) {
    return make_error(Errc::kUnavailable, "bgp: session is not established");
  }
  if (prefixes.empty()) return 0;
  const bgp_wire::CodecContext& ctx = established_->codec;
  // bgp_create_ip_unreach: the Withdrawn Routes start after their length field.
  const std::size_t n = bird_fill(prefixes, ctx.max_message_length - bgp_wire::kHeaderLength - 2);
  std::vector<std::uint8_t> bytes;
  auto r = bgp_wire::encode_update(prefixes.first(n), {}, {}, ctx, bytes);
  if (!r) return std::unexpected(r.error());
  counters_.updates_out++;
  send_message(*established_, bgp_wire::MessageType::kUpdate, std::move(bytes));
  return n;
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
