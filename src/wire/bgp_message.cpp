// BGP-4 messages other than UPDATE: the header (RFC 4271 §4.1, §6.1), OPEN and capabilities
// (§4.2, §6.2, RFC 5492, RFC 9072), NOTIFICATION (§4.5) and its names, KEEPALIVE (§4.4),
// ROUTE-REFRESH (RFC 2918, RFC 7313), decode_message and the stream framer.

#include <calisim/wire/bgp.hpp>

#include <algorithm>
#include <array>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "wire/bgp_internal.hpp"

namespace calisim::wire::bgp {

using detail::fail;

// ---- header -----------------------------------------------------------------------------------

std::string message_type_name(std::uint8_t type) {
  switch (type) {
    case 1: return "OPEN";
    case 2: return "UPDATE";
    case 3: return "NOTIFICATION";
    case 4: return "KEEPALIVE";
    case 5: return "ROUTE-REFRESH";
    default: return fmt::format("type {}", type);
  }
}

namespace detail {

std::expected<MessageType, MessageError> check_header(Bytes message, std::size_t max_length) {
  if (message.size() < kHeaderLength) {
    return fail(Notification::header(HeaderErrorSubcode::kBadMessageLength,
                                     message.size() >= kMarkerLength + 2
                                         ? to_vector(message.subspan(kMarkerLength, 2))
                                         : be16_data(static_cast<std::uint16_t>(message.size()))),
                fmt::format("message of {} bytes is shorter than the {}-byte header",
                            message.size(), kHeaderLength));
  }
  // §6.1: a marker that is not all ones means the connection is not synchronized.
  if (!std::all_of(message.begin(), message.begin() + kMarkerLength,
                   [](std::uint8_t b) { return b == 0xff; })) {
    return fail(Notification::header(HeaderErrorSubcode::kConnectionNotSynchronized),
                "marker is not 16 bytes of 0xff");
  }
  const std::uint16_t length = load_be16(message.data() + kMarkerLength);
  if (length < kHeaderLength || length > max_length || length != message.size()) {
    return fail(Notification::header(HeaderErrorSubcode::kBadMessageLength,
                                     to_vector(message.subspan(kMarkerLength, 2))),
                length != message.size() && length >= kHeaderLength && length <= max_length
                    ? fmt::format("length field {} but {} bytes given", length, message.size())
                    : fmt::format("length field {} is outside {}..{}", length, kHeaderLength,
                                  max_length));
  }
  const std::uint8_t type = message[kMarkerLength + 2];
  if (type < 1 || type > 5) {
    return fail(Notification::header(HeaderErrorSubcode::kBadMessageType, {type}),
                fmt::format("unknown message type {}", type));
  }
  return MessageType{type};
}

std::expected<void, MessageError> check_typed_header(Bytes message, MessageType want,
                                                     std::size_t min_length,
                                                     std::size_t max_length) {
  auto type = check_header(message, max_length);
  if (!type) return std::unexpected(std::move(type.error()));
  if (*type != want) {
    return fail(Notification::header(HeaderErrorSubcode::kBadMessageType,
                                     {static_cast<std::uint8_t>(*type)}),
                fmt::format("{} where {} was expected",
                            message_type_name(static_cast<std::uint8_t>(*type)),
                            message_type_name(static_cast<std::uint8_t>(want))));
  }
  if (message.size() < min_length) {
    return fail(Notification::header(HeaderErrorSubcode::kBadMessageLength,
                                     to_vector(message.subspan(kMarkerLength, 2))),
                fmt::format("{} of {} bytes is shorter than the minimum of {}",
                            message_type_name(static_cast<std::uint8_t>(want)), message.size(),
                            min_length));
  }
  return {};
}

}  // namespace detail

// ---- NOTIFICATION -----------------------------------------------------------------------------

Notification Notification::header(HeaderErrorSubcode subcode, std::vector<std::uint8_t> data) {
  return {static_cast<std::uint8_t>(ErrorCode::kMessageHeader),
          static_cast<std::uint8_t>(subcode), std::move(data)};
}
Notification Notification::open(OpenErrorSubcode subcode, std::vector<std::uint8_t> data) {
  return {static_cast<std::uint8_t>(ErrorCode::kOpenMessage), static_cast<std::uint8_t>(subcode),
          std::move(data)};
}
Notification Notification::update(UpdateErrorSubcode subcode, std::vector<std::uint8_t> data) {
  return {static_cast<std::uint8_t>(ErrorCode::kUpdateMessage),
          static_cast<std::uint8_t>(subcode), std::move(data)};
}
Notification Notification::hold_timer_expired() {
  return {static_cast<std::uint8_t>(ErrorCode::kHoldTimerExpired), kUnspecificSubcode, {}};
}
Notification Notification::fsm(FsmErrorSubcode subcode) {
  return {static_cast<std::uint8_t>(ErrorCode::kFiniteStateMachine),
          static_cast<std::uint8_t>(subcode), {}};
}
Notification Notification::cease(CeaseSubcode subcode, std::string_view message) {
  Notification n{static_cast<std::uint8_t>(ErrorCode::kCease), static_cast<std::uint8_t>(subcode),
                 {}};
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
    n.data.insert(n.data.end(), message.begin(), message.begin() + static_cast<std::ptrdiff_t>(length));
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
    const std::uint32_t as = n.data.size() == 2 ? load_be16(n.data.data()) : load_be32(n.data.data());
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

// ---- KEEPALIVE and ROUTE-REFRESH ----------------------------------------------------------------

std::size_t encode_keepalive(std::vector<std::uint8_t>& out) {
  const std::size_t start = detail::begin_message(out, MessageType::kKeepalive);
  return detail::finish_message(out, start);
}

std::size_t encode_route_refresh(const RouteRefresh& refresh, std::vector<std::uint8_t>& out) {
  const std::size_t start = detail::begin_message(out, MessageType::kRouteRefresh);
  detail::put16(out, refresh.family.afi);
  detail::put8(out, refresh.subtype);
  detail::put8(out, refresh.family.safi);
  return detail::finish_message(out, start);
}

std::expected<RouteRefresh, MessageError> decode_route_refresh(Bytes message) {
  if (auto ok = detail::check_typed_header(message, MessageType::kRouteRefresh,
                                           kRouteRefreshLength, kExtendedMaxMessageLength);
      !ok) {
    return std::unexpected(std::move(ok.error()));
  }
  if (message.size() != kRouteRefreshLength) {
    // RFC 7313 §5: the data is the complete ROUTE-REFRESH message; it must still fit in our
    // NOTIFICATION.
    const std::size_t shown = std::min(message.size(), kMaxMessageLength - kMinNotificationLength);
    return fail(Notification{static_cast<std::uint8_t>(ErrorCode::kRouteRefreshMessage),
                             static_cast<std::uint8_t>(RouteRefreshErrorSubcode::kInvalidMessageLength),
                             detail::to_vector(message.first(shown))},
                fmt::format("ROUTE-REFRESH of {} bytes, want {}", message.size(),
                            kRouteRefreshLength));
  }
  const std::uint8_t* body = message.data() + kHeaderLength;
  return RouteRefresh{AfiSafi{load_be16(body), body[3]}, body[2]};
}

// ---- OPEN -------------------------------------------------------------------------------------

namespace {

constexpr std::uint8_t kParamCapabilities = 2;  // RFC 5492 §4
constexpr std::uint8_t kParamExtendedLength = 255;  // RFC 9072 §2
constexpr std::size_t kOpenOptParamLengthOffset = kHeaderLength + 9;

constexpr std::uint8_t code_byte(CapabilityCode c) { return static_cast<std::uint8_t>(c); }

// Bytes of a capability's value.
std::size_t capability_value_length(const Capability& c) {
  return std::visit(
      [](const auto& cap) -> std::size_t {
        using T = std::decay_t<decltype(cap)>;
        if constexpr (std::is_same_v<T, MultiprotocolCapability>) return 4;
        else if constexpr (std::is_same_v<T, RouteRefreshCapability>) return 0;
        else if constexpr (std::is_same_v<T, FourOctetAsCapability>) return 4;
        else if constexpr (std::is_same_v<T, GracefulRestartCapability>) return 2 + 4 * cap.families.size();
        else return cap.value.size();
      },
      c);
}

void write_capability_value(const Capability& c, std::vector<std::uint8_t>& out) {
  std::visit(
      [&out](const auto& cap) {
        using T = std::decay_t<decltype(cap)>;
        if constexpr (std::is_same_v<T, MultiprotocolCapability>) {
          detail::put16(out, cap.family.afi);
          detail::put8(out, 0);  // reserved (RFC 4760 §8)
          detail::put8(out, cap.family.safi);
        } else if constexpr (std::is_same_v<T, FourOctetAsCapability>) {
          detail::put32(out, cap.as_number);
        } else if constexpr (std::is_same_v<T, GracefulRestartCapability>) {
          // RFC 4724 §3: R (0x8000), N (0x4000, RFC 8538 §2), 12-bit restart time.
          const std::uint16_t word = static_cast<std::uint16_t>(
              (cap.restart_state ? 0x8000 : 0) | (cap.notification ? 0x4000 : 0) |
              (cap.restart_time_s & GracefulRestartCapability::kMaxRestartTime));
          detail::put16(out, word);
          for (const auto& f : cap.families) {
            detail::put16(out, f.family.afi);
            detail::put8(out, f.family.safi);
            detail::put8(out, f.forwarding_preserved ? 0x80 : 0x00);
          }
        } else if constexpr (std::is_same_v<T, UnknownCapability>) {
          out.insert(out.end(), cap.value.begin(), cap.value.end());
        }
      },
      c);
}

std::unexpected<MessageError> open_unspecific(std::string reason) {
  return fail(Notification::open(OpenErrorSubcode::kUnspecific), "OPEN: " + std::move(reason));
}

// One capability's value, by code (RFC 5492 §4). Known codes with the wrong length are 2/0, as
// BIRD answers them.
std::expected<Capability, MessageError> parse_capability(std::uint8_t code, Bytes v) {
  switch (code) {
    case code_byte(CapabilityCode::kMultiprotocol):
      if (v.size() != 4) {
        return open_unspecific(fmt::format("multiprotocol capability of length {}, want 4", v.size()));
      }
      return MultiprotocolCapability{AfiSafi{load_be16(v.data()), v[3]}};
    case code_byte(CapabilityCode::kRouteRefresh):
      if (!v.empty()) {
        return open_unspecific(fmt::format("route refresh capability of length {}, want 0", v.size()));
      }
      return RouteRefreshCapability{};
    case code_byte(CapabilityCode::kFourOctetAs):
      if (v.size() != 4) {
        return open_unspecific(fmt::format("4-octet AS capability of length {}, want 4", v.size()));
      }
      return FourOctetAsCapability{load_be32(v.data())};
    case code_byte(CapabilityCode::kGracefulRestart): {
      if (v.size() < 2 || (v.size() - 2) % 4 != 0) {
        return open_unspecific(
            fmt::format("graceful restart capability of length {}, want 2 + 4n", v.size()));
      }
      GracefulRestartCapability gr;
      const std::uint16_t word = load_be16(v.data());
      gr.restart_state = (word & 0x8000) != 0;
      gr.notification = (word & 0x4000) != 0;
      gr.restart_time_s = word & GracefulRestartCapability::kMaxRestartTime;
      for (std::size_t i = 2; i < v.size(); i += 4) {
        gr.families.push_back({AfiSafi{load_be16(v.data() + i), v[i + 2]}, (v[i + 3] & 0x80) != 0});
      }
      return gr;
    }
    default:
      return UnknownCapability{code, detail::to_vector(v)};
  }
}

}  // namespace

std::uint8_t capability_code(const Capability& capability) {
  return std::visit(
      [](const auto& cap) -> std::uint8_t {
        using T = std::decay_t<decltype(cap)>;
        if constexpr (std::is_same_v<T, MultiprotocolCapability>) return code_byte(CapabilityCode::kMultiprotocol);
        else if constexpr (std::is_same_v<T, RouteRefreshCapability>) return code_byte(CapabilityCode::kRouteRefresh);
        else if constexpr (std::is_same_v<T, FourOctetAsCapability>) return code_byte(CapabilityCode::kFourOctetAs);
        else if constexpr (std::is_same_v<T, GracefulRestartCapability>) return code_byte(CapabilityCode::kGracefulRestart);
        else return cap.code;
      },
      capability);
}

Open Open::make(std::uint32_t as_number, std::uint16_t hold_time_s, Ipv4Address bgp_identifier) {
  Open open;
  open.my_as = as_number > 0xffff ? kAsTrans : static_cast<std::uint16_t>(as_number);
  open.hold_time_s = hold_time_s;
  open.bgp_identifier = bgp_identifier;
  open.capabilities = {MultiprotocolCapability{kIpv4Unicast}, RouteRefreshCapability{},
                       FourOctetAsCapability{as_number}};
  return open;
}

std::optional<std::uint32_t> Open::four_octet_as() const {
  for (const auto& c : capabilities) {
    if (const auto* as4 = std::get_if<FourOctetAsCapability>(&c)) return as4->as_number;
  }
  return std::nullopt;
}

std::uint32_t Open::as_number() const { return four_octet_as().value_or(my_as); }

bool Open::has_capability(CapabilityCode code) const {
  return std::any_of(capabilities.begin(), capabilities.end(), [code](const Capability& c) {
    return capability_code(c) == code_byte(code);
  });
}

const GracefulRestartCapability* Open::graceful_restart() const {
  for (const auto& c : capabilities) {
    if (const auto* gr = std::get_if<GracefulRestartCapability>(&c)) return gr;
  }
  return nullptr;
}

bool Open::supports(AfiSafi family) const {
  if (capabilities.empty()) return family == kIpv4Unicast;
  return std::any_of(capabilities.begin(), capabilities.end(), [family](const Capability& c) {
    const auto* mp = std::get_if<MultiprotocolCapability>(&c);
    return mp != nullptr && mp->family == family;
  });
}

Result<std::size_t> encode_open(const Open& open, std::vector<std::uint8_t>& out) {
  std::size_t caps_length = 0;
  for (const auto& c : open.capabilities) {
    const std::size_t n = capability_value_length(c);
    if (n > 255) {
      return make_error(Errc::kOutOfRange,
                        fmt::format("bgp: capability {} has a {}-byte value, more than 255",
                                    capability_code(c), n));
    }
    caps_length += 2 + n;
  }
  const std::size_t params_length = open.capabilities.empty() ? 0 : 2 + caps_length;
  if (params_length > 255) {
    return make_error(Errc::kOutOfRange,
                      fmt::format("bgp: OPEN optional parameters of {} bytes exceed 255",
                                  params_length));
  }
  const std::size_t start = detail::begin_message(out, MessageType::kOpen);
  detail::put8(out, open.version);
  detail::put16(out, open.my_as);
  detail::put16(out, open.hold_time_s);
  detail::put32(out, open.bgp_identifier.value());
  detail::put8(out, static_cast<std::uint8_t>(params_length));
  if (!open.capabilities.empty()) {
    detail::put8(out, kParamCapabilities);
    detail::put8(out, static_cast<std::uint8_t>(caps_length));
    for (const auto& c : open.capabilities) {
      detail::put8(out, capability_code(c));
      detail::put8(out, static_cast<std::uint8_t>(capability_value_length(c)));
      write_capability_value(c, out);
    }
  }
  return detail::finish_message(out, start);
}

std::expected<Open, MessageError> decode_open(Bytes message) {
  // OPEN is never longer than 4096, even with Extended Message (RFC 8654 §3).
  if (auto ok = detail::check_typed_header(message, MessageType::kOpen, kMinOpenLength,
                                           kMaxMessageLength);
      !ok) {
    return std::unexpected(std::move(ok.error()));
  }
  const std::uint8_t* body = message.data() + kHeaderLength;
  Open open;
  open.version = body[0];
  if (open.version != kVersion) {
    // §6.2: the data is the largest version we support below the peer's bid, or our smallest if
    // the bid is below it. Both are 4.
    return fail(Notification::open(OpenErrorSubcode::kUnsupportedVersionNumber,
                                   detail::be16_data(kVersion)),
                fmt::format("OPEN: version {}, only {} is supported", open.version, kVersion));
  }
  open.my_as = load_be16(body + 1);
  open.hold_time_s = load_be16(body + 3);
  open.bgp_identifier = Ipv4Address(load_be32(body + 5));

  // Optional parameters: RFC 4271 §4.2, or RFC 9072 §2's extended form (length 255, then a
  // parameter type of 255 and a 2-byte length; each parameter then has a 2-byte length).
  const std::size_t opt_length = message[kOpenOptParamLengthOffset];
  std::size_t params_start = kMinOpenLength;
  std::size_t params_length = opt_length;
  std::size_t param_length_bytes = 1;
  if (opt_length == kParamExtendedLength && message.size() > kMinOpenLength &&
      message[kMinOpenLength] == kParamExtendedLength) {
    if (message.size() < kMinOpenLength + 3) {
      return fail(Notification::header(HeaderErrorSubcode::kBadMessageLength,
                                       detail::to_vector(message.subspan(kMarkerLength, 2))),
                  "OPEN: extended optional parameters length cut short");
    }
    params_length = load_be16(message.data() + kMinOpenLength + 1);
    params_start = kMinOpenLength + 3;
    param_length_bytes = 2;
  }
  if (params_start + params_length != message.size()) {
    // BIRD answers an optional parameters length that disagrees with the message length as a
    // bad message length.
    return fail(Notification::header(HeaderErrorSubcode::kBadMessageLength,
                                     detail::to_vector(message.subspan(kMarkerLength, 2))),
                fmt::format("OPEN: {} bytes of optional parameters in a {}-byte message",
                            params_length, message.size()));
  }
  const Bytes params = message.subspan(params_start, params_length);
  for (std::size_t i = 0; i < params.size();) {
    const std::size_t header = 1 + param_length_bytes;
    if (params.size() - i < header) return open_unspecific("optional parameter header cut short");
    const std::uint8_t type = params[i];
    const std::size_t length =
        param_length_bytes == 1 ? params[i + 1] : load_be16(params.data() + i + 1);
    if (length > params.size() - i - header) {
      return open_unspecific(fmt::format("optional parameter {} of length {} runs past the end",
                                         type, length));
    }
    const Bytes value = params.subspan(i + header, length);
    if (type != kParamCapabilities) {
      return fail(Notification::open(OpenErrorSubcode::kUnsupportedOptionalParameter,
                                     detail::to_vector(params.subspan(i, header + length))),
                  fmt::format("OPEN: unsupported optional parameter type {}", type));
    }
    for (std::size_t j = 0; j < value.size();) {
      if (value.size() - j < 2) return open_unspecific("capability header cut short");
      const std::uint8_t code = value[j];
      const std::size_t cap_length = value[j + 1];
      if (cap_length > value.size() - j - 2) {
        return open_unspecific(
            fmt::format("capability {} of length {} runs past its parameter", code, cap_length));
      }
      auto cap = parse_capability(code, value.subspan(j + 2, cap_length));
      if (!cap) return std::unexpected(std::move(cap.error()));
      open.capabilities.push_back(std::move(*cap));
      j += 2 + cap_length;
    }
    i += header + length;
  }

  if (open.hold_time_s == 1 || open.hold_time_s == 2) {
    return fail(Notification::open(OpenErrorSubcode::kUnacceptableHoldTime,
                                   detail::be16_data(open.hold_time_s)),
                fmt::format("OPEN: hold time {} s (must be 0 or at least 3)", open.hold_time_s));
  }
  if (open.bgp_identifier.is_unspecified()) {
    return fail(Notification::open(OpenErrorSubcode::kBadBgpIdentifier, detail::be32_data(0)),
                "OPEN: BGP identifier 0.0.0.0");
  }
  if (open.my_as == 0) {
    return fail(Notification::open(OpenErrorSubcode::kBadPeerAs, detail::be16_data(0)),
                "OPEN: My AS is 0 (RFC 7607)");
  }
  if (open.four_octet_as() == 0u) {
    return fail(Notification::open(OpenErrorSubcode::kBadPeerAs, detail::be32_data(0)),
                "OPEN: 4-octet AS capability carries AS 0 (RFC 7607)");
  }
  return open;
}

CodecContext negotiate(const Open& local, const Open& remote) {
  CodecContext ctx;
  ctx.four_octet_as = local.four_octet_as().has_value() && remote.four_octet_as().has_value();
  ctx.internal = local.as_number() == remote.as_number();
  ctx.max_message_length = local.has_capability(CapabilityCode::kExtendedMessage) &&
                                   remote.has_capability(CapabilityCode::kExtendedMessage)
                               ? kExtendedMaxMessageLength
                               : kMaxMessageLength;
  return ctx;
}

std::optional<MessageError> validate_open(const Open& open, const OpenExpectations& expect) {
  if (open.hold_time_s != 0 && open.hold_time_s < expect.min_hold_time_s) {
    return MessageError{Notification::open(OpenErrorSubcode::kUnacceptableHoldTime,
                                           detail::be16_data(open.hold_time_s)),
                        fmt::format("OPEN: hold time {} s is below the minimum of {} s",
                                    open.hold_time_s, expect.min_hold_time_s)};
  }
  if (open.bgp_identifier.is_unspecified() ||
      (expect.internal && open.bgp_identifier == expect.local_identifier)) {
    return MessageError{Notification::open(OpenErrorSubcode::kBadBgpIdentifier,
                                           detail::be32_data(open.bgp_identifier.value())),
                        fmt::format("OPEN: BGP identifier {} {}", open.bgp_identifier,
                                    open.bgp_identifier.is_unspecified() ? "is zero"
                                                                         : "is our own")};
  }
  if (open.as_number() != expect.peer_as) {
    const auto as4 = open.four_octet_as();
    return MessageError{
        Notification::open(OpenErrorSubcode::kBadPeerAs,
                           as4 ? detail::be32_data(*as4) : detail::be16_data(open.my_as)),
        fmt::format("OPEN: peer AS {}, expected {}", open.as_number(), expect.peer_as)};
  }
  return std::nullopt;
}

// ---- any message --------------------------------------------------------------------------------

std::expected<Message, MessageError> decode_message(Bytes message, const CodecContext& ctx) {
  auto type = detail::check_header(message, ctx.max_message_length);
  if (!type) return std::unexpected(std::move(type.error()));
  switch (*type) {
    case MessageType::kOpen: {
      auto open = decode_open(message);
      if (!open) return std::unexpected(std::move(open.error()));
      return Message(std::move(*open));
    }
    case MessageType::kUpdate: {
      UpdateDecodeResult r = decode_update(message, ctx);
      if (r.notification) {
        std::string reason = r.update.errors.empty() ? std::string("UPDATE: malformed")
                                                     : std::move(r.update.errors.back().reason);
        return fail(std::move(*r.notification), std::move(reason));
      }
      return Message(std::move(r.update));
    }
    case MessageType::kNotification: {
      auto n = decode_notification(message);
      if (!n) return std::unexpected(std::move(n.error()));
      return Message(std::move(*n));
    }
    case MessageType::kKeepalive:
      // §6.1: a KEEPALIVE is exactly 19 bytes.
      if (message.size() != kKeepaliveLength) {
        return fail(Notification::header(HeaderErrorSubcode::kBadMessageLength,
                                         detail::to_vector(message.subspan(kMarkerLength, 2))),
                    fmt::format("KEEPALIVE of {} bytes, want 19", message.size()));
      }
      return Message(Keepalive{});
    case MessageType::kRouteRefresh: {
      auto rr = decode_route_refresh(message);
      if (!rr) return std::unexpected(std::move(rr.error()));
      return Message(*rr);
    }
  }
  return fail(Notification::header(HeaderErrorSubcode::kBadMessageType), "unreachable");
}

// ---- framing ------------------------------------------------------------------------------------

MessageFramer::MessageFramer(std::size_t max_message_length)
    : max_message_length_(max_message_length) {}

void MessageFramer::push(Bytes data) {
  // Drop what has been read once it is at least half the buffer, so that the buffer stays near
  // one message plus one TCP chunk and the copy is amortised.
  if (read_ == buffer_.size()) {
    buffer_.clear();
    read_ = 0;
  } else if (read_ > 0 && read_ >= buffer_.size() / 2) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(read_));
    read_ = 0;
  }
  buffer_.insert(buffer_.end(), data.begin(), data.end());
}

std::expected<std::optional<Bytes>, MessageError> MessageFramer::next() {
  if (failure_) return std::unexpected(*failure_);
  const Bytes pending = Bytes(buffer_).subspan(read_);
  // A bad marker byte is an error as soon as it arrives.
  const std::size_t marker_seen = std::min(pending.size(), kMarkerLength);
  if (!std::all_of(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(marker_seen),
                   [](std::uint8_t b) { return b == 0xff; })) {
    failure_ = MessageError{Notification::header(HeaderErrorSubcode::kConnectionNotSynchronized),
                            "marker is not 16 bytes of 0xff"};
    return std::unexpected(*failure_);
  }
  if (pending.size() < kHeaderLength) return std::nullopt;
  const std::uint16_t length = load_be16(pending.data() + kMarkerLength);
  if (length < kHeaderLength || length > max_message_length_) {
    failure_ = MessageError{Notification::header(HeaderErrorSubcode::kBadMessageLength,
                                                 detail::be16_data(length)),
                            fmt::format("length field {} is outside {}..{}", length,
                                        kHeaderLength, max_message_length_)};
    return std::unexpected(*failure_);
  }
  if (pending.size() < length) return std::nullopt;
  read_ += length;
  return pending.first(length);
}

}  // namespace calisim::wire::bgp
