// BGP UPDATE (RFC 4271 §4.3, §5, §6.3): prefixes, path attributes, the encoders and the decoder
// with RFC 7606's revised error handling. AS numbers: RFC 6793.

#include <calisim/wire/bgp.hpp>

#include <algorithm>
#include <bitset>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "wire/bgp_internal.hpp"

namespace calisim::wire::bgp {

using detail::put16;
using detail::put32;
using detail::put8;

namespace {

constexpr std::uint8_t type_byte(AttributeType t) { return static_cast<std::uint8_t>(t); }

// The Optional and Transitive bits each known attribute must carry (RFC 4271 §5.1, RFC 1997,
// RFC 4456 §7-8, RFC 4760 §3-4, RFC 6793 §3).
constexpr std::uint8_t kWellKnown = kAttrTransitive;
constexpr std::uint8_t kOptionalTransitive = kAttrOptional | kAttrTransitive;
constexpr std::uint8_t kOptionalNonTransitive = kAttrOptional;

std::optional<std::uint8_t> known_flags(std::uint8_t type) {
  switch (AttributeType{type}) {
    case AttributeType::kOrigin:
    case AttributeType::kAsPath:
    case AttributeType::kNextHop:
    case AttributeType::kLocalPref:
    case AttributeType::kAtomicAggregate: return kWellKnown;
    case AttributeType::kMultiExitDisc:
    case AttributeType::kOriginatorId:
    case AttributeType::kClusterList:
    case AttributeType::kMpReachNlri:
    case AttributeType::kMpUnreachNlri: return kOptionalNonTransitive;
    case AttributeType::kAggregator:
    case AttributeType::kCommunities:
    case AttributeType::kAs4Path:
    case AttributeType::kAs4Aggregator: return kOptionalTransitive;
  }
  return std::nullopt;
}

std::string attribute_name(std::uint8_t type) {
  switch (AttributeType{type}) {
    case AttributeType::kOrigin: return "ORIGIN";
    case AttributeType::kAsPath: return "AS_PATH";
    case AttributeType::kNextHop: return "NEXT_HOP";
    case AttributeType::kMultiExitDisc: return "MULTI_EXIT_DISC";
    case AttributeType::kLocalPref: return "LOCAL_PREF";
    case AttributeType::kAtomicAggregate: return "ATOMIC_AGGREGATE";
    case AttributeType::kAggregator: return "AGGREGATOR";
    case AttributeType::kCommunities: return "COMMUNITIES";
    case AttributeType::kOriginatorId: return "ORIGINATOR_ID";
    case AttributeType::kClusterList: return "CLUSTER_LIST";
    case AttributeType::kMpReachNlri: return "MP_REACH_NLRI";
    case AttributeType::kMpUnreachNlri: return "MP_UNREACH_NLRI";
    case AttributeType::kAs4Path: return "AS4_PATH";
    case AttributeType::kAs4Aggregator: return "AS4_AGGREGATOR";
  }
  return fmt::format("attribute {}", type);
}

// What RFC 7606 prescribes for a malformed instance of a known attribute.
UpdateAction malformed_action(std::uint8_t type) {
  switch (AttributeType{type}) {
    case AttributeType::kAtomicAggregate:  // §7.6
    case AttributeType::kAggregator:       // §7.7
    case AttributeType::kAs4Path:          // RFC 6793 §6
    case AttributeType::kAs4Aggregator:    // RFC 6793 §6
      return UpdateAction::kAttributeDiscard;
    case AttributeType::kMpReachNlri:      // §7.11, §5.3
    case AttributeType::kMpUnreachNlri:
      return UpdateAction::kSessionReset;
    default:                               // §7.1-7.5, §7.8-7.10
      return UpdateAction::kTreatAsWithdraw;
  }
}

// ---- prefixes -----------------------------------------------------------------------------------

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

// ---- AS paths -------------------------------------------------------------------------------------

constexpr std::size_t kMaxSegmentAsns = 255;

bool is_confed(AsPathSegmentType t) {
  return t == AsPathSegmentType::kAsConfedSequence || t == AsPathSegmentType::kAsConfedSet;
}

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

// RFC 7606 §7.2's checks. Returns the reason on error.
std::optional<std::string> parse_as_path(Bytes v, std::size_t as_size, AsPath& path) {
  for (std::size_t i = 0; i < v.size();) {
    if (v.size() - i < 2) return fmt::format("a single byte left at offset {}", i);
    const std::uint8_t type = v[i];
    const std::size_t count = v[i + 1];
    if (type < 1 || type > 4) return fmt::format("segment type {} at offset {}", type, i);
    if (count == 0) return fmt::format("empty segment at offset {}", i);
    if (count * as_size > v.size() - i - 2) {
      return fmt::format("segment of {} AS numbers at offset {} runs past the attribute", count, i);
    }
    AsPathSegment segment{AsPathSegmentType{type}, {}};
    segment.as_numbers.reserve(count);
    const std::uint8_t* p = v.data() + i + 2;
    for (std::size_t k = 0; k < count; ++k) {
      segment.as_numbers.push_back(as_size == 4 ? load_be32(p + 4 * k) : load_be16(p + 2 * k));
    }
    path.segments.push_back(std::move(segment));
    i += 2 + count * as_size;
  }
  return std::nullopt;
}

// RFC 6793 §4.2.3: the AS_PATH's first (count(AS_PATH) - count(AS4_PATH)) AS numbers, then the
// AS4_PATH. Counting as for route selection: a set is 1, confederation segments 0 (and kept).
AsPath merge_as4_path(const AsPath& as_path, const AsPath& as4_path) {
  std::size_t keep = as_path.path_length() - as4_path.path_length();
  AsPath out;
  for (const auto& s : as_path.segments) {
    if (keep == 0) break;
    if (is_confed(s.type)) {
      out.segments.push_back(s);
    } else if (s.type == AsPathSegmentType::kAsSet) {
      out.segments.push_back(s);
      --keep;
    } else {
      const std::size_t n = std::min(keep, s.as_numbers.size());
      out.segments.push_back({s.type, {s.as_numbers.begin(), s.as_numbers.begin() + static_cast<std::ptrdiff_t>(n)}});
      keep -= n;
    }
  }
  for (const auto& s : as4_path.segments) {
    // Join sequences split only by the cut.
    if (!out.segments.empty() && s.type == AsPathSegmentType::kAsSequence &&
        out.segments.back().type == AsPathSegmentType::kAsSequence) {
      auto& last = out.segments.back().as_numbers;
      last.insert(last.end(), s.as_numbers.begin(), s.as_numbers.end());
    } else {
      out.segments.push_back(s);
    }
  }
  return out;
}

// ---- attribute encoding ---------------------------------------------------------------------------

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
  return make_error(Errc::kOutOfRange, fmt::format("bgp: {} of {} bytes exceeds 65535",
                                                   attribute_name(type), length));
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

// ---- public helpers -------------------------------------------------------------------------------

std::size_t AsPath::path_length() const {
  std::size_t n = 0;
  for (const auto& s : segments) {
    if (s.type == AsPathSegmentType::kAsSequence) n += s.as_numbers.size();
    else if (s.type == AsPathSegmentType::kAsSet) n += 1;
  }
  return n;
}

AsPath AsPath::sequence(std::vector<std::uint32_t> as_numbers) {
  AsPath path;
  if (!as_numbers.empty()) path.segments.push_back({AsPathSegmentType::kAsSequence, std::move(as_numbers)});
  return path;
}

std::string AsPath::to_string() const {
  std::string out;
  for (const auto& s : segments) {
    const char* open = "";
    const char* close = "";
    switch (s.type) {
      case AsPathSegmentType::kAsSet: open = "{"; close = "}"; break;
      case AsPathSegmentType::kAsSequence: break;
      case AsPathSegmentType::kAsConfedSequence: open = "("; close = ")"; break;
      case AsPathSegmentType::kAsConfedSet: open = "["; close = "]"; break;
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
    case UpdateAction::kNone: return "none";
    case UpdateAction::kAttributeDiscard: return "attribute discard";
    case UpdateAction::kTreatAsWithdraw: return "treat-as-withdraw";
    case UpdateAction::kSessionReset: return "session reset";
  }
  return "unknown";
}

Ipv4Prefix PrefixListView::Iterator::operator*() const {
  const std::uint8_t length = *p_;
  std::uint32_t address = 0;
  switch ((length + 7) / 8) {  // parse() checked that these bytes exist
    case 4: address |= std::uint32_t{p_[4]}; [[fallthrough]];
    case 3: address |= std::uint32_t{p_[3]} << 8; [[fallthrough]];
    case 2: address |= std::uint32_t{p_[2]} << 16; [[fallthrough]];
    case 1: address |= std::uint32_t{p_[1]} << 24; [[fallthrough]];
    default: break;
  }
  const std::uint32_t mask = length == 0 ? 0 : 0xffffffffu << (32 - length);
  return Ipv4Prefix(Ipv4Address(address & mask), length);
}

Result<PrefixListView> PrefixListView::parse(Bytes bytes, std::uint8_t max_length_bits) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < bytes.size(); ++count) {
    const std::uint8_t length = bytes[i];
    if (length > max_length_bits) {
      return make_error(Errc::kMalformed,
                        fmt::format("prefix length {} at offset {} exceeds {}", length, i,
                                    max_length_bits));
    }
    const std::size_t n = (std::size_t{length} + 7) / 8;
    if (n > bytes.size() - i - 1) {
      return make_error(Errc::kMalformed,
                        fmt::format("prefix /{} at offset {} needs {} bytes, {} left", length, i,
                                    n, bytes.size() - i - 1));
    }
    i += 1 + n;
  }
  return PrefixListView(bytes, count);
}

std::vector<Ipv4Prefix> PrefixListView::to_vector() const { return {begin(), end()}; }

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

// ---- encoders -------------------------------------------------------------------------------------

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

// ---- decoding ---------------------------------------------------------------------------------------

namespace {

constexpr std::size_t kUpdateBodyOffset = kHeaderLength;

class UpdateDecoder {
 public:
  UpdateDecoder(const CodecContext& ctx, UpdateDecodeResult& result)
      : ctx_(ctx), r_(result), u_(result.update), a_(result.update.attributes) {}

  bool reset() const { return r_.notification.has_value(); }

  void record(UpdateAction action, UpdateErrorSubcode subcode, std::uint8_t type,
              std::string reason) {
    u_.errors.push_back({action, subcode, type, "UPDATE: " + std::move(reason)});
    u_.action = std::max(u_.action, action);
  }

  void session_reset(UpdateErrorSubcode subcode, std::vector<std::uint8_t> data, std::uint8_t type,
                     std::string reason) {
    if (reset()) return;
    record(UpdateAction::kSessionReset, subcode, type, std::move(reason));
    r_.notification = Notification::update(subcode, std::move(data));
  }

  // A known attribute found malformed: RFC 7606's action for its type. For a session reset the
  // data is the attribute (RFC 4271 §6.3 asks for it with flags, length and optional errors).
  void malformed(std::uint8_t type, UpdateErrorSubcode subcode, Bytes attribute,
                 std::string reason) {
    const UpdateAction action = malformed_action(type);
    if (action == UpdateAction::kSessionReset) {
      session_reset(subcode, subcode == UpdateErrorSubcode::kInvalidNetworkField
                                 ? std::vector<std::uint8_t>{}
                                 : detail::to_vector(attribute),
                    type, std::move(reason));
    } else {
      record(action, subcode, type, std::move(reason));
    }
  }

  void attributes(Bytes attrs);
  void after_attributes();

 private:
  void attribute(std::uint8_t flags, std::uint8_t type, Bytes value, Bytes whole);
  bool expect_length(std::uint8_t type, Bytes value, std::size_t want, Bytes whole);
  void mp_reach(Bytes value, Bytes whole);
  void mp_unreach(Bytes value, Bytes whole);
  bool check_mp_prefixes(AfiSafi family, Bytes prefixes, std::uint8_t type);

  const CodecContext& ctx_;
  UpdateDecodeResult& r_;
  DecodedUpdate& u_;
  PathAttributes& a_;
  std::bitset<256> seen_;
  std::optional<AsPath> as4_path_;
  std::optional<Aggregator> as4_aggregator_;
};

void UpdateDecoder::attributes(Bytes attrs) {
  for (std::size_t i = 0; i < attrs.size() && !reset();) {
    // RFC 7606 §4: fewer bytes left than an attribute header, or an attribute running past the
    // Total Path Attribute Length, is treat-as-withdraw; the NLRI is still found from the total.
    const std::size_t left = attrs.size() - i;
    const bool extended = (attrs[i] & kAttrExtendedLength) != 0;
    const std::size_t header = extended ? 4 : 3;
    if (left < header) {
      record(UpdateAction::kTreatAsWithdraw, UpdateErrorSubcode::kMalformedAttributeList, 0,
             fmt::format("{} bytes left at attribute offset {}, too few for an attribute header",
                         left, i));
      return;
    }
    const std::uint8_t flags = attrs[i];
    const std::uint8_t type = attrs[i + 1];
    const std::size_t length = extended ? load_be16(attrs.data() + i + 2) : attrs[i + 2];
    if (length > left - header) {
      record(UpdateAction::kTreatAsWithdraw, UpdateErrorSubcode::kAttributeLengthError, type,
             fmt::format("{} of length {} at offset {} runs past the attributes ({} bytes left)",
                         attribute_name(type), length, i, left - header));
      return;
    }
    const Bytes whole = attrs.subspan(i, header + length);
    const Bytes value = whole.subspan(header);
    i += header + length;
    if (seen_[type]) {
      if (type == type_byte(AttributeType::kMpReachNlri) ||
          type == type_byte(AttributeType::kMpUnreachNlri)) {
        // RFC 7606 §3 e.
        session_reset(UpdateErrorSubcode::kMalformedAttributeList, {}, type,
                      fmt::format("{} appears more than once", attribute_name(type)));
        return;
      }
      // RFC 7606 §3 g: keep the first.
      record(UpdateAction::kAttributeDiscard, UpdateErrorSubcode::kMalformedAttributeList, type,
             fmt::format("{} repeated; all but the first discarded", attribute_name(type)));
      continue;
    }
    seen_[type] = true;
    attribute(flags, type, value, whole);
  }
}

bool UpdateDecoder::expect_length(std::uint8_t type, Bytes value, std::size_t want, Bytes whole) {
  if (value.size() == want) return true;
  malformed(type, UpdateErrorSubcode::kAttributeLengthError, whole,
            fmt::format("{} of length {}, want {}", attribute_name(type), value.size(), want));
  return false;
}

void UpdateDecoder::attribute(std::uint8_t flags, std::uint8_t type, Bytes value, Bytes whole) {
  const auto expected = known_flags(type);
  if (!expected) {
    if ((flags & kAttrOptional) == 0) {
      // RFC 4271 §6.3 (not revised by RFC 7606).
      session_reset(UpdateErrorSubcode::kUnrecognizedWellKnownAttribute, detail::to_vector(whole),
                    type, fmt::format("unrecognized well-known attribute {}", type));
    } else if ((flags & kAttrTransitive) != 0) {
      a_.unknown.push_back({flags, type, detail::to_vector(value)});
    }
    // RFC 4271 §5: an unrecognized optional non-transitive attribute is quietly ignored.
    return;
  }
  // RFC 7606 §3 c: Optional or Transitive bits in conflict with the type make it malformed.
  if (((flags ^ *expected) & (kAttrOptional | kAttrTransitive)) != 0) {
    malformed(type, UpdateErrorSubcode::kAttributeFlagsError, whole,
              fmt::format("{} with flags 0x{:02x}", attribute_name(type), flags));
    return;
  }
  const std::size_t as_size = ctx_.four_octet_as ? 4 : 2;
  switch (AttributeType{type}) {
    case AttributeType::kOrigin:  // RFC 7606 §7.1
      if (!expect_length(type, value, 1, whole)) return;
      if (value[0] > 2) {
        malformed(type, UpdateErrorSubcode::kInvalidOriginAttribute, whole,
                  fmt::format("ORIGIN value {}", value[0]));
        return;
      }
      a_.origin = Origin{value[0]};
      return;
    case AttributeType::kAsPath: {  // RFC 7606 §7.2
      AsPath path;
      if (auto err = parse_as_path(value, as_size, path)) {
        malformed(type, UpdateErrorSubcode::kMalformedAsPath, whole, "AS_PATH: " + *err);
        return;
      }
      a_.as_path = std::move(path);
      return;
    }
    case AttributeType::kNextHop: {  // RFC 7606 §7.3; semantics RFC 4271 §6.3
      if (!expect_length(type, value, 4, whole)) return;
      const Ipv4Address nh(load_be32(value.data()));
      if (nh.is_unspecified() || (nh.value() >> 28) >= 0xe) {
        malformed(type, UpdateErrorSubcode::kInvalidNextHopAttribute, whole,
                  fmt::format("NEXT_HOP {} is not a host address", nh));
        return;
      }
      a_.next_hop = nh;
      return;
    }
    case AttributeType::kMultiExitDisc:  // RFC 7606 §7.4
      if (!expect_length(type, value, 4, whole)) return;
      a_.multi_exit_disc = load_be32(value.data());
      return;
    case AttributeType::kLocalPref:  // RFC 7606 §7.5
      if (!ctx_.internal) {
        record(UpdateAction::kAttributeDiscard, UpdateErrorSubcode::kUnspecific, type,
               "LOCAL_PREF from an external peer discarded");
        return;
      }
      if (!expect_length(type, value, 4, whole)) return;
      a_.local_pref = load_be32(value.data());
      return;
    case AttributeType::kAtomicAggregate:  // RFC 7606 §7.6
      if (!expect_length(type, value, 0, whole)) return;
      a_.atomic_aggregate = true;
      return;
    case AttributeType::kAggregator:  // RFC 7606 §7.7
      if (!expect_length(type, value, as_size + 4, whole)) return;
      a_.aggregator = Aggregator{as_size == 4 ? load_be32(value.data()) : load_be16(value.data()),
                                 Ipv4Address(load_be32(value.data() + as_size))};
      return;
    case AttributeType::kCommunities:  // RFC 7606 §7.8
      if (value.empty() || value.size() % 4 != 0) {
        malformed(type, UpdateErrorSubcode::kAttributeLengthError, whole,
                  fmt::format("COMMUNITIES of length {}, want a non-zero multiple of 4",
                              value.size()));
        return;
      }
      a_.communities.reserve(value.size() / 4);
      for (std::size_t i = 0; i < value.size(); i += 4) a_.communities.push_back(load_be32(value.data() + i));
      return;
    case AttributeType::kOriginatorId:  // RFC 7606 §7.9
    case AttributeType::kClusterList:   // RFC 7606 §7.10
      if (!ctx_.internal) {
        // Route reflection is internal to an AS (RFC 4456 §8); BIRD drops them from eBGP.
        record(UpdateAction::kAttributeDiscard, UpdateErrorSubcode::kUnspecific, type,
               fmt::format("{} from an external peer discarded", attribute_name(type)));
        return;
      }
      if (type == type_byte(AttributeType::kOriginatorId)) {
        if (!expect_length(type, value, 4, whole)) return;
        a_.originator_id = Ipv4Address(load_be32(value.data()));
        return;
      }
      if (value.empty() || value.size() % 4 != 0) {
        malformed(type, UpdateErrorSubcode::kAttributeLengthError, whole,
                  fmt::format("CLUSTER_LIST of length {}, want a non-zero multiple of 4",
                              value.size()));
        return;
      }
      for (std::size_t i = 0; i < value.size(); i += 4) {
        a_.cluster_list.emplace_back(load_be32(value.data() + i));
      }
      return;
    case AttributeType::kMpReachNlri:
      mp_reach(value, whole);
      return;
    case AttributeType::kMpUnreachNlri:
      mp_unreach(value, whole);
      return;
    case AttributeType::kAs4Path: {
      // RFC 6793 §4.1: between two 4-octet speakers AS4_PATH has no business; discard it.
      if (ctx_.four_octet_as) {
        record(UpdateAction::kAttributeDiscard, UpdateErrorSubcode::kUnspecific, type,
               "AS4_PATH on a 4-octet AS session discarded");
        return;
      }
      AsPath path;
      auto err = parse_as_path(value, 4, path);
      if (!err) {
        for (const auto& s : path.segments) {
          if (is_confed(s.type)) err = "confederation segment in AS4_PATH";
        }
      }
      if (err) {
        malformed(type, UpdateErrorSubcode::kMalformedAsPath, whole, "AS4_PATH: " + *err);
        return;
      }
      as4_path_ = std::move(path);
      return;
    }
    case AttributeType::kAs4Aggregator:
      if (ctx_.four_octet_as) {
        record(UpdateAction::kAttributeDiscard, UpdateErrorSubcode::kUnspecific, type,
               "AS4_AGGREGATOR on a 4-octet AS session discarded");
        return;
      }
      if (!expect_length(type, value, 8, whole)) return;
      as4_aggregator_ = Aggregator{load_be32(value.data()), Ipv4Address(load_be32(value.data() + 4))};
      return;
  }
}

bool UpdateDecoder::check_mp_prefixes(AfiSafi family, Bytes prefixes, std::uint8_t type) {
  std::uint8_t max_bits = 0;
  if (family == kIpv4Unicast) max_bits = 32;
  else if (family == AfiSafi{kAfiIpv6, kSafiUnicast}) max_bits = 128;
  else return true;  // a family whose NLRI layout calisim does not know: kept as bytes
  if (auto view = PrefixListView::parse(prefixes, max_bits); !view) {
    // RFC 7606 §5.3: a malformed NLRI field ends the session.
    session_reset(UpdateErrorSubcode::kInvalidNetworkField, {}, type,
                  fmt::format("{}: {}", attribute_name(type), view.error().message));
    return false;
  }
  return true;
}

void UpdateDecoder::mp_reach(Bytes value, Bytes whole) {
  const std::uint8_t type = type_byte(AttributeType::kMpReachNlri);
  // RFC 4760 §3: AFI(2) SAFI(1) next hop length(1) next hop reserved(1) NLRI.
  if (value.size() < 5 || std::size_t{value[3]} + 5 > value.size()) {
    malformed(type, UpdateErrorSubcode::kOptionalAttributeError, whole,
              fmt::format("MP_REACH_NLRI of length {} cannot hold its next hop", value.size()));
    return;
  }
  MpReachNlri mp;
  mp.family = AfiSafi{load_be16(value.data()), value[2]};
  const std::size_t nh_length = value[3];
  const bool nh_ok = mp.family == kIpv4Unicast ? (nh_length == 4 || nh_length == 16 || nh_length == 32)
                     : mp.family.afi == kAfiIpv6 ? (nh_length == 16 || nh_length == 32)
                                                 : true;
  if (!nh_ok) {
    malformed(type, UpdateErrorSubcode::kOptionalAttributeError, whole,
              fmt::format("MP_REACH_NLRI next hop of {} bytes for AFI {} SAFI {}", nh_length,
                          mp.family.afi, mp.family.safi));
    return;
  }
  const Bytes nlri = value.subspan(5 + nh_length);
  if (!check_mp_prefixes(mp.family, nlri, type)) return;
  mp.next_hop = detail::to_vector(value.subspan(4, nh_length));
  mp.nlri = detail::to_vector(nlri);
  a_.mp_reach = std::move(mp);
}

void UpdateDecoder::mp_unreach(Bytes value, Bytes whole) {
  const std::uint8_t type = type_byte(AttributeType::kMpUnreachNlri);
  if (value.size() < 3) {  // RFC 4760 §4: AFI(2) SAFI(1) withdrawn routes
    malformed(type, UpdateErrorSubcode::kOptionalAttributeError, whole,
              fmt::format("MP_UNREACH_NLRI of length {}, want at least 3", value.size()));
    return;
  }
  MpUnreachNlri mp;
  mp.family = AfiSafi{load_be16(value.data()), value[2]};
  const Bytes withdrawn = value.subspan(3);
  if (!check_mp_prefixes(mp.family, withdrawn, type)) return;
  mp.withdrawn = detail::to_vector(withdrawn);
  a_.mp_unreach = std::move(mp);
}

void UpdateDecoder::after_attributes() {
  if (reset()) return;
  // RFC 6793 §4.2.3: on a 2-octet session, rebuild the true path and aggregator.
  if (!ctx_.four_octet_as) {
    if (a_.aggregator && a_.aggregator->as_number != kAsTrans) {
      // The aggregating speaker was a 2-octet one: AS4_AGGREGATOR and AS4_PATH are stale.
    } else {
      if (as4_aggregator_ && a_.aggregator) a_.aggregator = as4_aggregator_;
      if (as4_path_ && a_.as_path && a_.as_path->path_length() >= as4_path_->path_length()) {
        a_.as_path = merge_as4_path(*a_.as_path, *as4_path_);
      }
    }
  }
  // RFC 7606 §3 d (RFC 4271 §5.1.1-5.1.3, RFC 4760 §3): ORIGIN and AS_PATH whenever routes are
  // announced, NEXT_HOP when they are in the NLRI field. An attribute seen but malformed has its
  // own error already.
  const bool reach_mp = a_.mp_reach.has_value();
  if (!u_.nlri.empty() || reach_mp) {
    for (AttributeType t : {AttributeType::kOrigin, AttributeType::kAsPath, AttributeType::kNextHop}) {
      if (t == AttributeType::kNextHop && u_.nlri.empty()) continue;
      if (!seen_[type_byte(t)]) {
        record(UpdateAction::kTreatAsWithdraw, UpdateErrorSubcode::kMissingWellKnownAttribute,
               type_byte(t), fmt::format("missing well-known attribute {}", attribute_name(type_byte(t))));
      }
    }
  }
  // RFC 7606 §5.2: treat-as-withdraw needs reachable NLRI to act on; without any we cannot be
  // sure the message was understood, so the session is reset (as BIRD does).
  if (u_.action == UpdateAction::kTreatAsWithdraw && u_.nlri.empty() && !reach_mp) {
    session_reset(UpdateErrorSubcode::kMalformedAttributeList, {}, 0,
                  "treat-as-withdraw error in an UPDATE without reachable NLRI");
  }
}

}  // namespace

UpdateDecodeResult decode_update(Bytes message, const CodecContext& ctx) {
  UpdateDecodeResult result;
  DecodedUpdate& u = result.update;
  UpdateDecoder decoder(ctx, result);
  if (auto ok = detail::check_typed_header(message, MessageType::kUpdate, kMinUpdateLength,
                                           ctx.max_message_length);
      !ok) {
    u.errors.push_back({UpdateAction::kSessionReset, UpdateErrorSubcode::kUnspecific, 0,
                        std::move(ok.error().reason)});
    u.action = UpdateAction::kSessionReset;
    result.notification = std::move(ok.error().notification);
    return result;
  }
  const Bytes body = message.subspan(kUpdateBodyOffset);
  // RFC 4271 §6.3: lengths that run past the message are a Malformed Attribute List.
  const std::size_t withdrawn_length = load_be16(body.data());
  if (withdrawn_length + 4 > body.size()) {
    decoder.session_reset(UpdateErrorSubcode::kMalformedAttributeList, {}, 0,
                          fmt::format("Withdrawn Routes Length {} runs past the {}-byte message",
                                      withdrawn_length, message.size()));
    return result;
  }
  const std::size_t attrs_length = load_be16(body.data() + 2 + withdrawn_length);
  if (withdrawn_length + attrs_length + 4 > body.size()) {
    decoder.session_reset(UpdateErrorSubcode::kMalformedAttributeList, {}, 0,
                          fmt::format("Withdrawn Routes Length {} + Total Path Attribute Length "
                                      "{} + 23 exceeds the message length {}",
                                      withdrawn_length, attrs_length, message.size()));
    return result;
  }
  u.path_attributes_length = static_cast<std::uint16_t>(attrs_length);
  auto withdrawn = PrefixListView::parse(body.subspan(2, withdrawn_length));
  if (!withdrawn) {
    // RFC 7606 §5.3; BIRD sends Invalid Network Field for either prefix list.
    decoder.session_reset(UpdateErrorSubcode::kInvalidNetworkField, {}, 0,
                          "Withdrawn Routes: " + withdrawn.error().message);
    return result;
  }
  auto nlri = PrefixListView::parse(body.subspan(4 + withdrawn_length + attrs_length));
  if (!nlri) {
    decoder.session_reset(UpdateErrorSubcode::kInvalidNetworkField, {}, 0,
                          "NLRI: " + nlri.error().message);
    return result;
  }
  u.withdrawn = *withdrawn;
  u.nlri = *nlri;
  decoder.attributes(body.subspan(4 + withdrawn_length, attrs_length));
  decoder.after_attributes();
  if (result.notification) {
    u.withdrawn = {};
    u.nlri = {};
  }
  return result;
}

std::optional<AfiSafi> DecodedUpdate::end_of_rib() const {
  if (!withdrawn.empty() || !nlri.empty() || !errors.empty()) return std::nullopt;
  if (path_attributes_length == 0) return kIpv4Unicast;
  const PathAttributes& a = attributes;
  const bool only_mp_unreach =
      a.mp_unreach && a.mp_unreach->withdrawn.empty() && !a.origin && !a.as_path &&
      !a.next_hop && !a.multi_exit_disc && !a.local_pref && !a.atomic_aggregate &&
      !a.aggregator && a.communities.empty() && !a.originator_id && a.cluster_list.empty() &&
      !a.mp_reach && a.unknown.empty();
  if (only_mp_unreach) return a.mp_unreach->family;
  return std::nullopt;
}

Update DecodedUpdate::to_update() const {
  return Update{withdrawn.to_vector(), attributes, nlri.to_vector()};
}

}  // namespace calisim::wire::bgp
