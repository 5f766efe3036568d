// BGP UPDATE decoding (RFC 4271 §4.3, §6.3) with RFC 7606's revised error handling: every error
// found is recorded with the action taken (attribute discard, treat-as-withdraw, session reset),
// and a session reset carries its NOTIFICATION. AS4_PATH / AS4_AGGREGATOR: RFC 6793 §4.2.3.

#include <calisim/wire/bgp.hpp>

#include <algorithm>
#include <bitset>
#include <utility>

#include <fmt/format.h>

#include "wire/bgp_internal.hpp"

namespace calisim::wire::bgp {

using detail::attribute_name;
using detail::is_confed;
using detail::known_flags;
using detail::type_byte;

namespace {

// What RFC 7606 prescribes for a malformed instance of a known attribute.
UpdateAction malformed_action(std::uint8_t type) {
  switch (AttributeType{type}) {
    case AttributeType::kAtomicAggregate:  // §7.6
    case AttributeType::kAggregator:       // §7.7
    case AttributeType::kAs4Path:          // RFC 6793 §6
    case AttributeType::kAs4Aggregator:    // RFC 6793 §6
      return UpdateAction::kAttributeDiscard;
    case AttributeType::kMpReachNlri:  // §7.11, §5.3
    case AttributeType::kMpUnreachNlri:
      return UpdateAction::kSessionReset;
    default:  // §7.1-7.5, §7.8-7.10
      return UpdateAction::kTreatAsWithdraw;
  }
}

// ---- AS paths
// -------------------------------------------------------------------------------------

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
      out.segments.push_back(
          {s.type, {s.as_numbers.begin(), s.as_numbers.begin() + static_cast<std::ptrdiff_t>(n)}});
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
      session_reset(subcode,
                    subcode == UpdateErrorSubcode::kInvalidNetworkField
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
        malformed(
            type, UpdateErrorSubcode::kAttributeLengthError, whole,
            fmt::format("COMMUNITIES of length {}, want a non-zero multiple of 4", value.size()));
        return;
      }
      a_.communities.reserve(value.size() / 4);
      for (std::size_t i = 0; i < value.size(); i += 4)
        a_.communities.push_back(load_be32(value.data() + i));
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
        malformed(
            type, UpdateErrorSubcode::kAttributeLengthError, whole,
            fmt::format("CLUSTER_LIST of length {}, want a non-zero multiple of 4", value.size()));
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
      as4_aggregator_ =
          Aggregator{load_be32(value.data()), Ipv4Address(load_be32(value.data() + 4))};
      return;
  }
}

bool UpdateDecoder::check_mp_prefixes(AfiSafi family, Bytes prefixes, std::uint8_t type) {
  std::uint8_t max_bits = 0;
  if (family == kIpv4Unicast)
    max_bits = 32;
  else if (family == AfiSafi{kAfiIpv6, kSafiUnicast})
    max_bits = 128;
  else
    return true;  // a family whose NLRI layout calisim does not know: kept as bytes
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
  const bool nh_ok = mp.family == kIpv4Unicast
                         ? (nh_length == 4 || nh_length == 16 || nh_length == 32)
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
    for (AttributeType t :
         {AttributeType::kOrigin, AttributeType::kAsPath, AttributeType::kNextHop}) {
      if (t == AttributeType::kNextHop && u_.nlri.empty()) continue;
      if (!seen_[type_byte(t)]) {
        record(UpdateAction::kTreatAsWithdraw, UpdateErrorSubcode::kMissingWellKnownAttribute,
               type_byte(t),
               fmt::format("missing well-known attribute {}", attribute_name(type_byte(t))));
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
  const bool only_mp_unreach = a.mp_unreach && a.mp_unreach->withdrawn.empty() && !a.origin &&
                               !a.as_path && !a.next_hop && !a.multi_exit_disc && !a.local_pref &&
                               !a.atomic_aggregate && !a.aggregator && a.communities.empty() &&
                               !a.originator_id && a.cluster_list.empty() && !a.mp_reach &&
                               a.unknown.empty();
  if (only_mp_unreach) return a.mp_unreach->family;
  return std::nullopt;
}

Update DecodedUpdate::to_update() const {
  return Update{withdrawn.to_vector(), attributes, nlri.to_vector()};
}

}  // namespace calisim::wire::bgp
