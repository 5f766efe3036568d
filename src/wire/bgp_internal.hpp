#pragma once
// Shared by the BGP codec's translation units: header writing and checking, small byte helpers.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include <calisim/wire/bgp.hpp>

namespace calisim::wire::bgp::detail {

inline std::vector<std::uint8_t> to_vector(Bytes bytes) {
  return {bytes.begin(), bytes.end()};
}

inline std::vector<std::uint8_t> be16_data(std::uint16_t v) {
  return {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}
inline std::vector<std::uint8_t> be32_data(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
          static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

inline void put8(std::vector<std::uint8_t>& out, std::uint8_t v) {
  out.push_back(v);
}
inline void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
inline void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v));
}

// Writes the 19-byte header at `p` (RFC 4271 §4.1).
inline void write_header(std::uint8_t* p, std::size_t length, MessageType type) {
  std::fill_n(p, kMarkerLength, std::uint8_t{0xff});
  store_be16(p + kMarkerLength, static_cast<std::uint16_t>(length));
  p[kMarkerLength + 2] = static_cast<std::uint8_t>(type);
}

// Appends a header with the length still 0; finish_message fills it in.
inline std::size_t begin_message(std::vector<std::uint8_t>& out, MessageType type) {
  const std::size_t start = out.size();
  out.resize(start + kHeaderLength);
  write_header(out.data() + start, 0, type);
  return start;
}
inline std::size_t finish_message(std::vector<std::uint8_t>& out, std::size_t start) {
  const std::size_t length = out.size() - start;
  store_be16(out.data() + start + kMarkerLength, static_cast<std::uint16_t>(length));
  return length;
}

inline std::unexpected<MessageError> fail(Notification notification, std::string reason) {
  return std::unexpected(MessageError{std::move(notification), std::move(reason)});
}

// The RFC 4271 §6.1 checks on one whole message: marker, length field against the bytes given and
// against 19..max, then the type. Returns the type.
std::expected<MessageType, MessageError> check_header(Bytes message, std::size_t max_length);

// check_header, then that the type is `want` (1/3 otherwise) and the length at least `min_length`
// (1/2 otherwise, §6.1 "less than the minimum length").
std::expected<void, MessageError> check_typed_header(Bytes message, MessageType want,
                                                     std::size_t min_length,
                                                     std::size_t max_length);

// ---- UPDATE helpers shared by the encoder and the decoder
// ----------------------------------------

constexpr std::uint8_t type_byte(AttributeType t) {
  return static_cast<std::uint8_t>(t);
}

// The Optional and Transitive bits each known attribute must carry (RFC 4271 §5.1, RFC 1997,
// RFC 4456 §8, RFC 4760 §3-4, RFC 6793 §3).
inline constexpr std::uint8_t kWellKnown = kAttrTransitive;
inline constexpr std::uint8_t kOptionalTransitive = kAttrOptional | kAttrTransitive;
inline constexpr std::uint8_t kOptionalNonTransitive = kAttrOptional;

// The Optional and Transitive bits of a known attribute type; nullopt for types calisim does
// not interpret.
std::optional<std::uint8_t> known_flags(std::uint8_t type);
// "ORIGIN", "AS_PATH", ...; "attribute N" for others.
std::string attribute_name(std::uint8_t type);

inline bool is_confed(AsPathSegmentType t) {
  return t == AsPathSegmentType::kAsConfedSequence || t == AsPathSegmentType::kAsConfedSet;
}

// Writes one prefix in NLRI form (RFC 4271 §4.3) at `p`; returns the byte after it.
inline std::uint8_t* write_prefix(std::uint8_t* p, const Ipv4Prefix& prefix) {
  const std::uint8_t length = prefix.length();
  std::uint8_t address[4];
  store_be32(address, prefix.network().value());
  *p++ = length;
  const std::size_t n = (std::size_t{length} + 7) / 8;
  std::memcpy(p, address, n);
  return p + n;
}

}  // namespace calisim::wire::bgp::detail
