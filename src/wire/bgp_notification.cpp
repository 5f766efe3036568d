// BGP NOTIFICATION (RFC 4271 §4.5, §6): constructors, the Shutdown Communication (RFC 9003),
// BIRD's names for codes and subcodes, and the message itself.

#include <calisim/wire/bgp.hpp>

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

#include "wire/bgp_internal.hpp"

namespace calisim::wire::bgp {

using detail::fail;

// ---- NOTIFICATION -----------------------------------------------------------------------------

Notification Notification::header(HeaderErrorSubcode subcode, std::vector<std::uint8_t> data) {
  return {static_cast<std::uint8_t>(ErrorCode::kMessageHeader), static_cast<std::uint8_t>(subcode),
          std::move(data)};
}
Notification Notification::open(OpenErrorSubcode subcode, std::vector<std::uint8_t> data) {
  return {static_cast<std::uint8_t>(ErrorCode::kOpenMessage), static_cast<std::uint8_t>(subcode),
          std::move(data)};
}
Notification Notification::update(UpdateErrorSubcode subcode, std::vector<std::uint8_t> data) {
  return {static_cast<std::uint8_t>(ErrorCode::kUpdateMessage), static_cast<std::uint8_t>(subcode),
          std::move(data)};
}
Notification Notification::hold_timer_expired() {
  return {static_cast<std::uint8_t>(ErrorCode::kHoldTimerExpired), kUnspecificSubcode, {}};
}
Notification Notification::fsm(FsmErrorSubcode subcode) {
  return {static_cast<std::uint8_t>(ErrorCode::kFiniteStateMachine),
          static_cast<std::uint8_t>(subcode),
          {}};
}
Notification Notification::cease(CeaseSubcode subcode, std::string_view message) {
  Notification n{
      static_cast<std::uint8_t>(ErrorCode::kCease), static_cast<std::uint8_t>(subcode), {}};
  const bool carries_text = subcode == CeaseSubcode::kAdministrativeShutdown ||
                            subcode == CeaseSubcode::kAdministrativeReset;
  if (carries_text && !message.empty()) {
    // RFC 9003 §2: at most 255 octets. Cut at a UTF-8 character boundary.
    std::size_t length = std::min<std::size_t>(message.size(), 255);
    while (length > 0 && length < message.size() &&
           (static_cast<std::uint8_t>(message[length]) & 0xc0) == 0x80) {
      --length;
    }
    n.data.reserve(1 + length);
    n.data.push_back(static_cast<std::uint8_t>(length));
    n.data.insert(n.data.end(), message.begin(),
                  message.begin() + static_cast<std::ptrdiff_t>(length));
  }
  return n;
}

std::optional<std::string> Notification::shutdown_communication() const {
  if (code != static_cast<std::uint8_t>(ErrorCode::kCease)) return std::nullopt;
  if (subcode != static_cast<std::uint8_t>(CeaseSubcode::kAdministrativeShutdown) &&
      subcode != static_cast<std::uint8_t>(CeaseSubcode::kAdministrativeReset)) {
    return std::nullopt;
  }
  if (data.empty() || std::size_t{data[0]} + 1 > data.size()) return std::nullopt;
  return std::string(data.begin() + 1, data.begin() + 1 + data[0]);
}

namespace {

struct ErrorName {
  std::uint8_t code;
  std::uint8_t subcode;
  std::string_view name;
};

// BIRD's wording (proto/bgp/packets.c, bgp_msg_table), which `birdc show protocols` prints after
// "Received: " or "BGP Error: ", plus the codes BIRD 2.0 does not name.
constexpr std::array kErrorNames = {
    ErrorName{1, 0, "Invalid message header"},
    ErrorName{1, 1, "Connection not synchronized"},
    ErrorName{1, 2, "Bad message length"},
    ErrorName{1, 3, "Bad message type"},
    ErrorName{2, 0, "Invalid OPEN message"},
    ErrorName{2, 1, "Unsupported version number"},
    ErrorName{2, 2, "Bad peer AS"},
    ErrorName{2, 3, "Bad BGP identifier"},
    ErrorName{2, 4, "Unsupported optional parameter"},
    ErrorName{2, 5, "Authentication failure"},
    ErrorName{2, 6, "Unacceptable hold time"},
    ErrorName{2, 7, "Required capability missing"},
    ErrorName{2, 8, "No supported AFI/SAFI"},
    ErrorName{2, 11, "Role mismatch"},
    ErrorName{3, 0, "Invalid UPDATE message"},
    ErrorName{3, 1, "Malformed attribute list"},
    ErrorName{3, 2, "Unrecognized well-known attribute"},
    ErrorName{3, 3, "Missing mandatory attribute"},
    ErrorName{3, 4, "Invalid attribute flags"},
    ErrorName{3, 5, "Invalid attribute length"},
    ErrorName{3, 6, "Invalid ORIGIN attribute"},
    ErrorName{3, 7, "AS routing loop"},
    ErrorName{3, 8, "Invalid NEXT_HOP attribute"},
    ErrorName{3, 9, "Optional attribute error"},
    ErrorName{3, 10, "Invalid network field"},
    ErrorName{3, 11, "Malformed AS_PATH"},
    ErrorName{4, 0, "Hold timer expired"},
    ErrorName{5, 0, "Finite state machine error"},
    ErrorName{5, 1, "Unexpected message in OpenSent state"},
    ErrorName{5, 2, "Unexpected message in OpenConfirm state"},
    ErrorName{5, 3, "Unexpected message in Established state"},
    ErrorName{6, 0, "Cease"},
    ErrorName{6, 1, "Maximum number of prefixes reached"},
    ErrorName{6, 2, "Administrative shutdown"},
    ErrorName{6, 3, "Peer de-configured"},
    ErrorName{6, 4, "Administrative reset"},
    ErrorName{6, 5, "Connection rejected"},
    ErrorName{6, 6, "Other configuration change"},
    ErrorName{6, 7, "Connection collision resolution"},
    ErrorName{6, 8, "Out of Resources"},
    ErrorName{6, 9, "Hard reset"},
    ErrorName{6, 10, "BFD session down"},
    ErrorName{7, 0, "Invalid ROUTE-REFRESH message"},
    ErrorName{7, 1, "Invalid ROUTE-REFRESH message length"},
};

}  // namespace

std::string notification_name(std::uint8_t code, std::uint8_t subcode) {
  for (const auto& e : kErrorNames) {
    if (e.code == code && e.subcode == subcode) return std::string(e.name);
  }
  return fmt::format("Unknown error {}.{}", code, subcode);
}

std::string describe(const Notification& n) {
  std::string out = notification_name(n.code, n.subcode);
  if (n.data.empty()) return out;
  if (n.code == static_cast<std::uint8_t>(ErrorCode::kOpenMessage) &&
      n.subcode == static_cast<std::uint8_t>(OpenErrorSubcode::kBadPeerAs) &&
      (n.data.size() == 2 || n.data.size() == 4)) {
    const std::uint32_t as =
        n.data.size() == 2 ? load_be16(n.data.data()) : load_be32(n.data.data());
    return fmt::format("{}: {}", out, as);
  }
  if (auto text = n.shutdown_communication()) {
    if (text->empty()) return out;
    // BIRD replaces control characters with spaces before printing.
    for (char& c : *text) {
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    return fmt::format("{}: \"{}\"", out, *text);
  }
  out += ": ";
  const std::size_t shown = std::min<std::size_t>(n.data.size(), 16);
  for (std::size_t i = 0; i < shown; ++i) out += fmt::format("{:02x}", n.data[i]);
  return out;
}

Result<std::size_t> encode_notification(const Notification& n, std::vector<std::uint8_t>& out,
                                        std::size_t max_message_length) {
  const std::size_t length = kMinNotificationLength + n.data.size();
  if (length > max_message_length) {
    return make_error(Errc::kOutOfRange,
                      fmt::format("bgp: NOTIFICATION with {} data bytes exceeds {} bytes",
                                  n.data.size(), max_message_length));
  }
  const std::size_t start = detail::begin_message(out, MessageType::kNotification);
  detail::put8(out, n.code);
  detail::put8(out, n.subcode);
  out.insert(out.end(), n.data.begin(), n.data.end());
  return detail::finish_message(out, start);
}

std::expected<Notification, MessageError> decode_notification(Bytes message) {
  if (auto ok = detail::check_typed_header(message, MessageType::kNotification,
                                           kMinNotificationLength, kExtendedMaxMessageLength);
      !ok) {
    return std::unexpected(std::move(ok.error()));
  }
  return Notification{message[kHeaderLength], message[kHeaderLength + 1],
                      detail::to_vector(message.subspan(kMinNotificationLength))};
}

}  // namespace calisim::wire::bgp
