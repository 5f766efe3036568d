// BGP-4 messages: the header (RFC 4271 §4.1, §6.1), KEEPALIVE (§4.4), ROUTE-REFRESH (RFC 2918,
// RFC 7313), decode_message and the stream framer. OPEN, NOTIFICATION and UPDATE have files of
// their own.

#include <calisim/wire/bgp.hpp>

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "wire/bgp_internal.hpp"

namespace calisim::wire::bgp {

using detail::fail;

// ---- header -----------------------------------------------------------------------------------

std::string message_type_name(std::uint8_t type) {
  switch (type) {
    case 1:
      return "OPEN";
    case 2:
      return "UPDATE";
    case 3:
      return "NOTIFICATION";
    case 4:
      return "KEEPALIVE";
    case 5:
      return "ROUTE-REFRESH";
    default:
      return fmt::format("type {}", type);
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
    return fail(
        Notification::header(HeaderErrorSubcode::kBadMessageLength,
                             to_vector(message.subspan(kMarkerLength, 2))),
        length != message.size() && length >= kHeaderLength && length <= max_length
            ? fmt::format("length field {} but {} bytes given", length, message.size())
            : fmt::format("length field {} is outside {}..{}", length, kHeaderLength, max_length));
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
    return fail(
        Notification::header(HeaderErrorSubcode::kBadMessageType,
                             {static_cast<std::uint8_t>(*type)}),
        fmt::format("{} where {} was expected", message_type_name(static_cast<std::uint8_t>(*type)),
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
  if (auto ok = detail::check_typed_header(message, MessageType::kRouteRefresh, kRouteRefreshLength,
                                           kExtendedMaxMessageLength);
      !ok) {
    return std::unexpected(std::move(ok.error()));
  }
  if (message.size() != kRouteRefreshLength) {
    // RFC 7313 §5: the data is the complete ROUTE-REFRESH message; it must still fit in our
    // NOTIFICATION.
    const std::size_t shown = std::min(message.size(), kMaxMessageLength - kMinNotificationLength);
    return fail(
        Notification{static_cast<std::uint8_t>(ErrorCode::kRouteRefreshMessage),
                     static_cast<std::uint8_t>(RouteRefreshErrorSubcode::kInvalidMessageLength),
                     detail::to_vector(message.first(shown))},
        fmt::format("ROUTE-REFRESH of {} bytes, want {}", message.size(), kRouteRefreshLength));
  }
  const std::uint8_t* body = message.data() + kHeaderLength;
  return RouteRefresh{AfiSafi{load_be16(body), body[3]}, body[2]};
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
    failure_ = MessageError{
        Notification::header(HeaderErrorSubcode::kBadMessageLength, detail::be16_data(length)),
        fmt::format("length field {} is outside {}..{}", length, kHeaderLength,
                    max_message_length_)};
    return std::unexpected(*failure_);
  }
  if (pending.size() < length) return std::nullopt;
  read_ += length;
  return pending.first(length);
}

}  // namespace calisim::wire::bgp
