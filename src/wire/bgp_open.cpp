// BGP OPEN (RFC 4271 §4.2, §6.2) with optional parameters (RFC 9072 extended lengths accepted)
// and capabilities (RFC 5492): multiprotocol (RFC 4760), route refresh (RFC 2918), graceful restart
// (RFC 4724, RFC 8538), 4-octet AS (RFC 6793); others kept as they came.

#include <calisim/wire/bgp.hpp>

#include <algorithm>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "wire/bgp_internal.hpp"

namespace calisim::wire::bgp {

using detail::fail;

// ---- OPEN -------------------------------------------------------------------------------------

namespace {

constexpr std::uint8_t kParamCapabilities = 2;      // RFC 5492 §4
constexpr std::uint8_t kParamExtendedLength = 255;  // RFC 9072 §2
constexpr std::size_t kOpenOptParamLengthOffset = kHeaderLength + 9;

constexpr std::uint8_t code_byte(CapabilityCode c) {
  return static_cast<std::uint8_t>(c);
}

// Bytes of a capability's value.
std::size_t capability_value_length(const Capability& c) {
  return std::visit(
      [](const auto& cap) -> std::size_t {
        using T = std::decay_t<decltype(cap)>;
        if constexpr (std::is_same_v<T, MultiprotocolCapability>)
          return 4;
        else if constexpr (std::is_same_v<T, RouteRefreshCapability>)
          return 0;
        else if constexpr (std::is_same_v<T, FourOctetAsCapability>)
          return 4;
        else if constexpr (std::is_same_v<T, GracefulRestartCapability>)
          return 2 + 4 * cap.families.size();
        else
          return cap.value.size();
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
        return open_unspecific(
            fmt::format("multiprotocol capability of length {}, want 4", v.size()));
      }
      return MultiprotocolCapability{AfiSafi{load_be16(v.data()), v[3]}};
    case code_byte(CapabilityCode::kRouteRefresh):
      if (!v.empty()) {
        return open_unspecific(
            fmt::format("route refresh capability of length {}, want 0", v.size()));
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
        if constexpr (std::is_same_v<T, MultiprotocolCapability>)
          return code_byte(CapabilityCode::kMultiprotocol);
        else if constexpr (std::is_same_v<T, RouteRefreshCapability>)
          return code_byte(CapabilityCode::kRouteRefresh);
        else if constexpr (std::is_same_v<T, FourOctetAsCapability>)
          return code_byte(CapabilityCode::kFourOctetAs);
        else if constexpr (std::is_same_v<T, GracefulRestartCapability>)
          return code_byte(CapabilityCode::kGracefulRestart);
        else
          return cap.code;
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

std::uint32_t Open::as_number() const {
  return four_octet_as().value_or(my_as);
}

bool Open::has_capability(CapabilityCode code) const {
  return std::any_of(capabilities.begin(), capabilities.end(),
                     [code](const Capability& c) { return capability_code(c) == code_byte(code); });
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
    return make_error(
        Errc::kOutOfRange,
        fmt::format("bgp: OPEN optional parameters of {} bytes exceed 255", params_length));
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
      return open_unspecific(
          fmt::format("optional parameter {} of length {} runs past the end", type, length));
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
    return MessageError{
        Notification::open(OpenErrorSubcode::kBadBgpIdentifier,
                           detail::be32_data(open.bgp_identifier.value())),
        fmt::format("OPEN: BGP identifier {} {}", open.bgp_identifier,
                    open.bgp_identifier.is_unspecified() ? "is zero" : "is our own")};
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

}  // namespace calisim::wire::bgp
