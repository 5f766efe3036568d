// BGP UPDATE encoding (RFC 4271 §4.3, §5): prefixes, path attributes, AS numbers for 2- and
// 4-octet sessions (RFC 6793 §4.2.2), packing prefixes into maximum-size messages, End-of-RIB.
// Decoding is in bgp_update_decode.cpp.

#include <calisim/wire/bgp.hpp>

#include <algorithm>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "wire/bgp_internal.hpp"

namespace calisim::wire::bgp {

using detail::attribute_name;
using detail::is_confed;
using detail::known_flags;
using detail::kOptionalNonTransitive;
using detail::kOptionalTransitive;
using detail::kWellKnown;
using detail::put16;
using detail::put32;
using detail::put8;
using detail::type_byte;
using detail::write_prefix;

namespace detail {

std::optional<std::uint8_t> known_flags(std::uint8_t type) {
  switch (AttributeType{type}) {
    case AttributeType::kOrigin:
    case AttributeType::kAsPath:
    case AttributeType::kNextHop:
    case AttributeType::kLocalPref:
    case AttributeType::kAtomicAggregate:
      return kWellKnown;
    case AttributeType::kMultiExitDisc:
    case AttributeType::kOriginatorId:
    case AttributeType::kClusterList:
    case AttributeType::kMpReachNlri:
    case AttributeType::kMpUnreachNlri:
      return kOptionalNonTransitive;
    case AttributeType::kAggregator:
    case AttributeType::kCommunities:
    case AttributeType::kAs4Path:
    case AttributeType::kAs4Aggregator:
      return kOptionalTransitive;
  }
  return std::nullopt;
}

std::string attribute_name(std::uint8_t type) {
  switch (AttributeType{type}) {
    case AttributeType::kOrigin:
      return "ORIGIN";
    case AttributeType::kAsPath:
      return "AS_PATH";
    case AttributeType::kNextHop:
      return "NEXT_HOP";
    case AttributeType::kMultiExitDisc:
      return "MULTI_EXIT_DISC";
    case AttributeType::kLocalPref:
      return "LOCAL_PREF";
    case AttributeType::kAtomicAggregate:
      return "ATOMIC_AGGREGATE";
    case AttributeType::kAggregator:
      return "AGGREGATOR";
    case AttributeType::kCommunities:
      return "COMMUNITIES";
    case AttributeType::kOriginatorId:
      return "ORIGINATOR_ID";
    case AttributeType::kClusterList:
      return "CLUSTER_LIST";
    case AttributeType::kMpReachNlri:
      return "MP_REACH_NLRI";
    case AttributeType::kMpUnreachNlri:
      return "MP_UNREACH_NLRI";
    case AttributeType::kAs4Path:
      return "AS4_PATH";
    case AttributeType::kAs4Aggregator:
      return "AS4_AGGREGATOR";
  }
  return fmt::format("attribute {}", type);
}

}  // namespace detail

namespace {

// ---- prefixes -----------------------------------------------------------------------------------

std::size_t prefix_bytes(std::span<const Ipv4Prefix> prefixes) {
  std::size_t n = 0;
  for (const auto& p : prefixes) n += encoded_prefix_length(p);
  return n;
}

void append_prefixes(std::vector<std::uint8_t>& out, std::span<const Ipv4Prefix> prefixes,
                     std::size_t bytes) {
  const std::size_t at = out.size();
  out.resize(at + bytes);
  std::uint8_t* p = out.data() + at;
  for (const auto& prefix : prefixes) p = write_prefix(p, prefix);
}

// ---- AS paths
// -------------------------------------------------------------------------------------

constexpr std::size_t kMaxSegmentAsns = 255;

// Bytes of an AS_PATH (or, with only_4byte_segments, AS4_PATH: no confederation segments,
// RFC 6793 §3) value with `as_size`-byte AS numbers; runs over 255 become several segments.
std::size_t as_path_length(const AsPath& path, std::size_t as_size, bool skip_confed) {
  std::size_t n = 0;
  for (const auto& s : path.segments) {
    if (skip_confed && is_confed(s.type)) continue;
    const std::size_t count = s.as_numbers.size();
    const std::size_t pieces = count == 0 ? 0 : (count + kMaxSegmentAsns - 1) / kMaxSegmentAsns;
    n += pieces * 2 + count * as_size;
  }
  return n;
}

void write_as_path(std::vector<std::uint8_t>& out, const AsPath& path, std::size_t as_size,
                   bool skip_confed) {
  for (const auto& s : path.segments) {
    if (skip_confed && is_confed(s.type)) continue;
    for (std::size_t i = 0; i < s.as_numbers.size(); i += kMaxSegmentAsns) {
      const std::size_t count = std::min(kMaxSegmentAsns, s.as_numbers.size() - i);
      put8(out, static_cast<std::uint8_t>(s.type));
      put8(out, static_cast<std::uint8_t>(count));
      for (std::size_t k = 0; k < count; ++k) {
        const std::uint32_t as = s.as_numbers[i + k];
        if (as_size == 4) {
          put32(out, as);
        } else {
          // RFC 6793 §4.2.2: AS numbers that do not fit become AS_TRANS.
          put16(out, as > 0xffff ? kAsTrans : static_cast<std::uint16_t>(as));
        }
      }
    }
  }
}

bool needs_as4(const AsPath& path) {
  for (const auto& s : path.segments) {
    if (is_confed(s.type)) continue;
    for (std::uint32_t as : s.as_numbers) {
      if (as > 0xffff) return true;
    }
  }
  return false;
}

// ---- attribute encoding
// ---------------------------------------------------------------------------

void put_attribute_header(std::vector<std::uint8_t>& out, std::uint8_t flags, std::uint8_t type,
                          std::size_t length, bool keep_extended = false) {
  // The Extended Length bit exactly when the value needs it (RFC 4271 §4.3), or as received for
  // attributes passed on unchanged.
  const bool extended = length > 255 || (keep_extended && (flags & kAttrExtendedLength) != 0);
  flags = static_cast<std::uint8_t>((flags & ~kAttrExtendedLength & 0xf0) |
                                    (extended ? kAttrExtendedLength : 0));
  put8(out, flags);
  put8(out, type);
  if (extended) {
    put16(out, static_cast<std::uint16_t>(length));
  } else {
    put8(out, static_cast<std::uint8_t>(length));
  }
}

constexpr std::size_t kMaxAttributeLength = 0xffff;

Result<void> too_long(std::uint8_t type, std::size_t length) {
  return make_error(Errc::kOutOfRange,
                    fmt::format("bgp: {} of {} bytes exceeds 65535", attribute_name(type), length));
}

// One known attribute of type `type`, if present.
Result<void> append_known_attribute(std::uint8_t type, const PathAttributes& a,
                                    const CodecContext& ctx, std::vector<std::uint8_t>& out) {
  const std::size_t as_size = ctx.four_octet_as ? 4 : 2;
  switch (AttributeType{type}) {
    case AttributeType::kOrigin:
      if (!a.origin) return {};
      put_attribute_header(out, kWellKnown, type, 1);
      put8(out, static_cast<std::uint8_t>(*a.origin));
      return {};
    case AttributeType::kAsPath: {
      if (!a.as_path) return {};
      const std::size_t n = as_path_length(*a.as_path, as_size, false);
      if (n > kMaxAttributeLength) return too_long(type, n);
      put_attribute_header(out, kWellKnown, type, n);
      write_as_path(out, *a.as_path, as_size, false);
      return {};
    }
    case AttributeType::kNextHop:
      if (!a.next_hop) return {};
      put_attribute_header(out, kWellKnown, type, 4);
      put32(out, a.next_hop->value());
      return {};
    case AttributeType::kMultiExitDisc:
      if (!a.multi_exit_disc) return {};
      put_attribute_header(out, kOptionalNonTransitive, type, 4);
      put32(out, *a.multi_exit_disc);
      return {};
    case AttributeType::kLocalPref:
      if (!a.local_pref) return {};
      put_attribute_header(out, kWellKnown, type, 4);
      put32(out, *a.local_pref);
      return {};
    case AttributeType::kAtomicAggregate:
      if (!a.atomic_aggregate) return {};
      put_attribute_header(out, kWellKnown, type, 0);
      return {};
    case AttributeType::kAggregator:
      if (!a.aggregator) return {};
      put_attribute_header(out, kOptionalTransitive, type, as_size + 4);
      if (as_size == 4) {
        put32(out, a.aggregator->as_number);
      } else {
        put16(out, a.aggregator->as_number > 0xffff
                       ? kAsTrans
                       : static_cast<std::uint16_t>(a.aggregator->as_number));
      }
      put32(out, a.aggregator->address.value());
      return {};
    case AttributeType::kCommunities: {
      if (a.communities.empty()) return {};
      const std::size_t n = 4 * a.communities.size();
      if (n > kMaxAttributeLength) return too_long(type, n);
      put_attribute_header(out, kOptionalTransitive, type, n);
      for (std::uint32_t c : a.communities) put32(out, c);
      return {};
    }
    case AttributeType::kOriginatorId:
      if (!a.originator_id) return {};
      put_attribute_header(out, kOptionalNonTransitive, type, 4);
      put32(out, a.originator_id->value());
      return {};
    case AttributeType::kClusterList: {
      if (a.cluster_list.empty()) return {};
      const std::size_t n = 4 * a.cluster_list.size();
      if (n > kMaxAttributeLength) return too_long(type, n);
      put_attribute_header(out, kOptionalNonTransitive, type, n);
      for (Ipv4Address id : a.cluster_list) put32(out, id.value());
      return {};
    }
    case AttributeType::kMpReachNlri: {
      if (!a.mp_reach) return {};
      const auto& mp = *a.mp_reach;
      if (mp.next_hop.size() > 255) return too_long(type, mp.next_hop.size());
      const std::size_t n = 5 + mp.next_hop.size() + mp.nlri.size();
      if (n > kMaxAttributeLength) return too_long(type, n);
      put_attribute_header(out, kOptionalNonTransitive, type, n);
      put16(out, mp.family.afi);
      put8(out, mp.family.safi);
      put8(out, static_cast<std::uint8_t>(mp.next_hop.size()));
      out.insert(out.end(), mp.next_hop.begin(), mp.next_hop.end());
      put8(out, 0);  // reserved (RFC 4760 §3)
      out.insert(out.end(), mp.nlri.begin(), mp.nlri.end());
      return {};
    }
    case AttributeType::kMpUnreachNlri: {
      if (!a.mp_unreach) return {};
      const auto& mp = *a.mp_unreach;
      const std::size_t n = 3 + mp.withdrawn.size();
      if (n > kMaxAttributeLength) return too_long(type, n);
      put_attribute_header(out, kOptionalNonTransitive, type, n);
      put16(out, mp.family.afi);
      put8(out, mp.family.safi);
      out.insert(out.end(), mp.withdrawn.begin(), mp.withdrawn.end());
      return {};
    }
    case AttributeType::kAs4Path: {
      // RFC 6793 §4.2.2: towards a 2-octet speaker, when the path holds AS numbers that do not
      // fit 16 bits.
      if (ctx.four_octet_as || !a.as_path || !needs_as4(*a.as_path)) return {};
      const std::size_t n = as_path_length(*a.as_path, 4, true);
      if (n > kMaxAttributeLength) return too_long(type, n);
      put_attribute_header(out, kOptionalTransitive, type, n);
      write_as_path(out, *a.as_path, 4, true);
      return {};
    }
    case AttributeType::kAs4Aggregator:
      if (ctx.four_octet_as || !a.aggregator || a.aggregator->as_number <= 0xffff) return {};
      put_attribute_header(out, kOptionalTransitive, type, 8);
      put32(out, a.aggregator->as_number);
      put32(out, a.aggregator->address.value());
      return {};
  }
  return {};
}

Result<void> append_unknown_attributes(std::uint8_t type, const PathAttributes& a,
                                       std::vector<std::uint8_t>& out) {
  for (const auto& raw : a.unknown) {
    if (raw.type != type) continue;
    if (raw.value.size() > kMaxAttributeLength) return too_long(type, raw.value.size());
    put_attribute_header(out, raw.flags, raw.type, raw.value.size(), true);
    out.insert(out.end(), raw.value.begin(), raw.value.end());
  }
  return {};
}

// The whole Path Attributes field: MP_REACH_NLRI and MP_UNREACH_NLRI first (RFC 7606 §5.1), then
// ascending type codes with unknown attributes in their place.
Result<void> append_attributes(const PathAttributes& a, const CodecContext& ctx,
                               std::vector<std::uint8_t>& out) {
  for (AttributeType t : {AttributeType::kMpReachNlri, AttributeType::kMpUnreachNlri}) {
    if (auto r = append_known_attribute(type_byte(t), a, ctx, out); !r) return r;
  }
  const bool any_unknown = !a.unknown.empty();
  for (unsigned t = 1; t <= 255; ++t) {
    const auto type = static_cast<std::uint8_t>(t);
    if (type != type_byte(AttributeType::kMpReachNlri) &&
        type != type_byte(AttributeType::kMpUnreachNlri) && known_flags(type)) {
      if (auto r = append_known_attribute(type, a, ctx, out); !r) return r;
    }
    if (any_unknown) {
      if (auto r = append_unknown_attributes(type, a, out); !r) return r;
    } else if (t > type_byte(AttributeType::kAs4Aggregator)) {
      break;
    }
  }
  return {};
}

Result<std::size_t> message_too_long(std::size_t length, std::size_t max) {
  return make_error(Errc::kOutOfRange,
                    fmt::format("bgp: UPDATE of {} bytes exceeds {}", length, max));
}

}  // namespace

// ---- public helpers
// -------------------------------------------------------------------------------

std::size_t AsPath::path_length() const {
  std::size_t n = 0;
  for (const auto& s : segments) {
    if (s.type == AsPathSegmentType::kAsSequence)
      n += s.as_numbers.size();
    else if (s.type == AsPathSegmentType::kAsSet)
      n += 1;
  }
  return n;
}

AsPath AsPath::sequence(std::vector<std::uint32_t> as_numbers) {
  AsPath path;
  if (!as_numbers.empty())
    path.segments.push_back({AsPathSegmentType::kAsSequence, std::move(as_numbers)});
  return path;
}

std::string AsPath::to_string() const {
  std::string out;
  for (const auto& s : segments) {
    const char* open = "";
    const char* close = "";
    switch (s.type) {
      case AsPathSegmentType::kAsSet:
        open = "{";
        close = "}";
        break;
      case AsPathSegmentType::kAsSequence:
        break;
      case AsPathSegmentType::kAsConfedSequence:
        open = "(";
        close = ")";
        break;
      case AsPathSegmentType::kAsConfedSet:
        open = "[";
        close = "]";
        break;
    }
    if (!out.empty()) out += ' ';
    out += open;
    for (std::size_t i = 0; i < s.as_numbers.size(); ++i) {
      if (i > 0) out += ' ';
      out += std::to_string(s.as_numbers[i]);
    }
    out += close;
  }
  return out;
}

void mark_unknown_partial(PathAttributes& attributes) {
  for (auto& raw : attributes.unknown) {
    if ((raw.flags & kAttrOptional) && (raw.flags & kAttrTransitive)) raw.flags |= kAttrPartial;
  }
}

std::string_view to_string(UpdateAction action) {
  switch (action) {
    case UpdateAction::kNone:
      return "none";
    case UpdateAction::kAttributeDiscard:
      return "attribute discard";
    case UpdateAction::kTreatAsWithdraw:
      return "treat-as-withdraw";
    case UpdateAction::kSessionReset:
      return "session reset";
  }
  return "unknown";
}

Ipv4Prefix PrefixListView::Iterator::operator*() const {
  const std::uint8_t length = *p_;
  std::uint32_t address = 0;
  switch ((length + 7) / 8) {  // parse() checked that these bytes exist
    case 4:
      address |= std::uint32_t{p_[4]};
      [[fallthrough]];
    case 3:
      address |= std::uint32_t{p_[3]} << 8;
      [[fallthrough]];
    case 2:
      address |= std::uint32_t{p_[2]} << 16;
      [[fallthrough]];
    case 1:
      address |= std::uint32_t{p_[1]} << 24;
      [[fallthrough]];
    default:
      break;
  }
  const std::uint32_t mask = length == 0 ? 0 : 0xffffffffu << (32 - length);
  return Ipv4Prefix(Ipv4Address(address & mask), length);
}

Result<PrefixListView> PrefixListView::parse(Bytes bytes, std::uint8_t max_length_bits) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < bytes.size(); ++count) {
    const std::uint8_t length = bytes[i];
    if (length > max_length_bits) {
      return make_error(Errc::kMalformed, fmt::format("prefix length {} at offset {} exceeds {}",
                                                      length, i, max_length_bits));
    }
    const std::size_t n = (std::size_t{length} + 7) / 8;
    if (n > bytes.size() - i - 1) {
      return make_error(Errc::kMalformed,
                        fmt::format("prefix /{} at offset {} needs {} bytes, {} left", length, i, n,
                                    bytes.size() - i - 1));
    }
    i += 1 + n;
  }
  return PrefixListView(bytes, count);
}

std::vector<Ipv4Prefix> PrefixListView::to_vector() const {
  return {begin(), end()};
}

std::size_t prefixes_that_fit(std::span<const Ipv4Prefix> prefixes, std::size_t space) {
  std::size_t used = 0;
  std::size_t n = 0;
  for (const auto& p : prefixes) {
    const std::size_t size = encoded_prefix_length(p);
    if (used + size > space) break;
    used += size;
    ++n;
  }
  return n;
}

// ---- encoders
// -------------------------------------------------------------------------------------

Result<std::size_t> encode_update(std::span<const Ipv4Prefix> withdrawn,
                                  const PathAttributes& attributes,
                                  std::span<const Ipv4Prefix> nlri, const CodecContext& ctx,
                                  std::vector<std::uint8_t>& out) {
  const std::size_t start = out.size();
  const std::size_t withdrawn_bytes = prefix_bytes(withdrawn);
  if (kMinUpdateLength + withdrawn_bytes > ctx.max_message_length) {
    return message_too_long(kMinUpdateLength + withdrawn_bytes, ctx.max_message_length);
  }
  detail::begin_message(out, MessageType::kUpdate);
  put16(out, static_cast<std::uint16_t>(withdrawn_bytes));
  append_prefixes(out, withdrawn, withdrawn_bytes);
  const std::size_t attr_length_at = out.size();
  put16(out, 0);
  if (auto r = append_attributes(attributes, ctx, out); !r) {
    out.resize(start);
    return std::unexpected(std::move(r.error()));
  }
  const std::size_t attr_bytes = out.size() - attr_length_at - 2;
  const std::size_t nlri_bytes = prefix_bytes(nlri);
  const std::size_t total = out.size() - start + nlri_bytes;
  if (total > ctx.max_message_length) {
    out.resize(start);
    return message_too_long(total, ctx.max_message_length);
  }
  store_be16(out.data() + attr_length_at, static_cast<std::uint16_t>(attr_bytes));
  append_prefixes(out, nlri, nlri_bytes);
  return detail::finish_message(out, start);
}

Result<std::size_t> encode_update(const Update& update, const CodecContext& ctx,
                                  std::vector<std::uint8_t>& out) {
  return encode_update(update.withdrawn, update.attributes, update.nlri, ctx, out);
}

Result<std::size_t> encode_updates(std::span<const Ipv4Prefix> nlri,
                                   const PathAttributes& attributes, const CodecContext& ctx,
                                   std::vector<std::uint8_t>& out) {
  // The attributes once; then each message is header, lengths, a copy of them and prefixes.
  std::vector<std::uint8_t> attrs;
  attrs.reserve(256);
  if (auto r = append_attributes(attributes, ctx, attrs); !r) return std::unexpected(r.error());
  const std::size_t fixed = kMinUpdateLength + attrs.size();
  if (nlri.empty()) return 0;
  if (fixed + encoded_prefix_length(nlri.front()) > ctx.max_message_length) {
    return message_too_long(fixed + encoded_prefix_length(nlri.front()), ctx.max_message_length);
  }
  const std::size_t space = ctx.max_message_length - fixed;
  std::size_t messages = 0;
  std::size_t i = 0;
  while (i < nlri.size()) {
    std::size_t used = 0;
    std::size_t n = 0;
    for (std::size_t k = i; k < nlri.size(); ++k) {
      const std::size_t size = encoded_prefix_length(nlri[k]);
      if (used + size > space) break;
      used += size;
      ++n;
    }
    const std::size_t start = out.size();
    const std::size_t length = fixed + used;
    out.resize(start + length);
    std::uint8_t* p = out.data() + start;
    detail::write_header(p, length, MessageType::kUpdate);
    p += kHeaderLength;
    store_be16(p, 0);  // no withdrawn routes
    store_be16(p + 2, static_cast<std::uint16_t>(attrs.size()));
    p += 4;
    std::memcpy(p, attrs.data(), attrs.size());
    p += attrs.size();
    for (std::size_t k = i; k < i + n; ++k) p = write_prefix(p, nlri[k]);
    i += n;
    ++messages;
  }
  return messages;
}

std::size_t encode_withdrawals(std::span<const Ipv4Prefix> withdrawn, const CodecContext& ctx,
                               std::vector<std::uint8_t>& out) {
  const std::size_t space = ctx.max_message_length - kMinUpdateLength;
  std::size_t messages = 0;
  for (std::size_t i = 0; i < withdrawn.size();) {
    const std::size_t n = prefixes_that_fit(withdrawn.subspan(i), space);
    const auto chunk = withdrawn.subspan(i, n);
    const std::size_t bytes = prefix_bytes(chunk);
    const std::size_t start = out.size();
    out.resize(start + kMinUpdateLength + bytes);
    std::uint8_t* p = out.data() + start;
    detail::write_header(p, kMinUpdateLength + bytes, MessageType::kUpdate);
    store_be16(p + kHeaderLength, static_cast<std::uint16_t>(bytes));
    p += kHeaderLength + 2;
    for (const auto& prefix : chunk) p = write_prefix(p, prefix);
    store_be16(p, 0);  // no path attributes
    i += n;
    ++messages;
  }
  return messages;
}

std::size_t encode_end_of_rib(AfiSafi family, std::vector<std::uint8_t>& out) {
  const std::size_t start = detail::begin_message(out, MessageType::kUpdate);
  put16(out, 0);
  if (family == kIpv4Unicast) {
    put16(out, 0);
  } else {
    // RFC 4724 §2: an UPDATE with only an MP_UNREACH_NLRI holding no withdrawn routes.
    put16(out, 6);
    put8(out, kOptionalNonTransitive);
    put8(out, type_byte(AttributeType::kMpUnreachNlri));
    put8(out, 3);
    put16(out, family.afi);
    put8(out, family.safi);
  }
  return detail::finish_message(out, start);
}

}  // namespace calisim::wire::bgp
