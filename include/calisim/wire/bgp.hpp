#pragma once
// BGP-4 messages on the wire (RFC 4271 §4), sans-IO: no sockets, no timers, no FSM. Values for
// OPEN (with capabilities, RFC 5492), UPDATE (path attributes, NLRI), NOTIFICATION, KEEPALIVE
// and ROUTE-REFRESH (RFC 2918); encoders that append whole messages to a caller's buffer; one
// decoder that returns either a message or the NOTIFICATION the RFCs require (RFC 4271 §6, with
// UPDATE errors handled as RFC 7606 revises them); and a framer that cuts a TCP byte stream
// into messages.
//
// Every decoded value holds true 4-octet AS numbers: on a session where 4-octet AS support was
// not negotiated (CodecContext::four_octet_as false) the codec maps to and from AS_TRANS and
// AS4_PATH / AS4_AGGREGATOR itself (RFC 6793 §4.2).
//
// Performance: prefix lists are read through PrefixListView (validated once, then iterated
// without allocation), and the encoders take spans of prefixes and write them straight into the
// output vector. Only whole-message values (AS path, communities, capabilities) allocate.

#include <cstddef>
#include <cstdint>
#include <expected>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <calisim/sim/result.hpp>
#include <calisim/wire/address.hpp>
#include <calisim/wire/bytes.hpp>

namespace calisim::wire::bgp {

// ---- constants (RFC 4271 §4.1) ----------------------------------------------------------------

inline constexpr std::uint16_t kTcpPort = 179;
inline constexpr std::uint8_t kVersion = 4;
inline constexpr std::size_t kMarkerLength = 16;
inline constexpr std::size_t kHeaderLength = 19;        // marker, length u16, type u8
inline constexpr std::size_t kMaxMessageLength = 4096;  // 65535 after RFC 8654
inline constexpr std::size_t kExtendedMaxMessageLength = 65535;
inline constexpr std::size_t kMinOpenLength = 29;          // §4.2
inline constexpr std::size_t kMinUpdateLength = 23;        // §4.3
inline constexpr std::size_t kKeepaliveLength = 19;        // §4.4
inline constexpr std::size_t kMinNotificationLength = 21;  // §4.5
inline constexpr std::size_t kRouteRefreshLength = 23;     // RFC 2918 §3
inline constexpr std::uint16_t kAsTrans = 23456;           // RFC 6793 §9

enum class MessageType : std::uint8_t {
  kOpen = 1,
  kUpdate = 2,
  kNotification = 3,
  kKeepalive = 4,
  kRouteRefresh = 5,  // RFC 2918 §3
};

// "OPEN", "UPDATE", ... as BIRD and Wireshark name them; "type N" for others.
std::string message_type_name(std::uint8_t type);

// An address family and subsequent address family (RFC 4760 §3, IANA registries). Raw values,
// so that families calisim does not model survive decoding.
struct AfiSafi {
  std::uint16_t afi = 1;
  std::uint8_t safi = 1;
  constexpr bool operator==(const AfiSafi&) const = default;
};
inline constexpr std::uint16_t kAfiIpv4 = 1;
inline constexpr std::uint16_t kAfiIpv6 = 2;
inline constexpr std::uint8_t kSafiUnicast = 1;
inline constexpr AfiSafi kIpv4Unicast{kAfiIpv4, kSafiUnicast};

// What both OPENs settled that changes how UPDATEs are encoded and checked.
struct CodecContext {
  // Both sides sent capability 65 (RFC 6793 §3): AS_PATH and AGGREGATOR carry 4-octet AS
  // numbers. Otherwise 2-octet ones, with AS_TRANS and AS4_PATH/AS4_AGGREGATOR (RFC 6793 §4.2).
  bool four_octet_as = true;
  // An internal (iBGP) session. From an external peer LOCAL_PREF (RFC 7606 §7.5), ORIGINATOR_ID
  // and CLUSTER_LIST (RFC 4456 §8, BIRD's behaviour) are discarded. Calico's mesh is iBGP.
  bool internal = true;
  // 4096, or 65535 once both sides sent the Extended Message capability (RFC 8654 §3).
  std::size_t max_message_length = kMaxMessageLength;
};

// ---- NOTIFICATION (RFC 4271 §4.5, §6) -------------------------------------------------------

enum class ErrorCode : std::uint8_t {
  kMessageHeader = 1,
  kOpenMessage = 2,
  kUpdateMessage = 3,
  kHoldTimerExpired = 4,
  kFiniteStateMachine = 5,
  kCease = 6,
  kRouteRefreshMessage = 7,  // RFC 7313 §5
};

// RFC 4271 §4.5: "If no appropriate Error Subcode is defined, then a zero (Unspecific) value is
// used". Every code accepts it.
inline constexpr std::uint8_t kUnspecificSubcode = 0;

enum class HeaderErrorSubcode : std::uint8_t {
  kConnectionNotSynchronized = 1,
  kBadMessageLength = 2,
  kBadMessageType = 3,
};

enum class OpenErrorSubcode : std::uint8_t {
  kUnspecific = 0,
  kUnsupportedVersionNumber = 1,
  kBadPeerAs = 2,
  kBadBgpIdentifier = 3,
  kUnsupportedOptionalParameter = 4,
  kAuthenticationFailure = 5,  // deprecated (RFC 4271 Appendix A)
  kUnacceptableHoldTime = 6,
  kUnsupportedCapability = 7,  // RFC 5492 §5
  kRoleMismatch = 11,          // RFC 9234 §4.2
};

enum class UpdateErrorSubcode : std::uint8_t {
  kUnspecific = 0,
  kMalformedAttributeList = 1,
  kUnrecognizedWellKnownAttribute = 2,
  kMissingWellKnownAttribute = 3,
  kAttributeFlagsError = 4,
  kAttributeLengthError = 5,
  kInvalidOriginAttribute = 6,
  kAsRoutingLoop = 7,  // deprecated (RFC 4271 Appendix A)
  kInvalidNextHopAttribute = 8,
  kOptionalAttributeError = 9,
  kInvalidNetworkField = 10,
  kMalformedAsPath = 11,
};

enum class FsmErrorSubcode : std::uint8_t {  // RFC 6608 §3
  kUnspecified = 0,
  kUnexpectedMessageInOpenSent = 1,
  kUnexpectedMessageInOpenConfirm = 2,
  kUnexpectedMessageInEstablished = 3,
};

enum class CeaseSubcode : std::uint8_t {  // RFC 4486 §3; 9 from RFC 8538, 10 from RFC 9384
  kMaximumPrefixesReached = 1,
  kAdministrativeShutdown = 2,
  kPeerDeconfigured = 3,
  kAdministrativeReset = 4,
  kConnectionRejected = 5,
  kOtherConfigurationChange = 6,
  kConnectionCollisionResolution = 7,
  kOutOfResources = 8,
  kHardReset = 9,
  kBfdDown = 10,
};

enum class RouteRefreshErrorSubcode : std::uint8_t {  // RFC 7313 §5
  kInvalidMessageLength = 1,
};

struct Notification {
  std::uint8_t code = 0;
  std::uint8_t subcode = 0;
  std::vector<std::uint8_t> data = {};

  static Notification header(HeaderErrorSubcode subcode, std::vector<std::uint8_t> data = {});
  static Notification open(OpenErrorSubcode subcode, std::vector<std::uint8_t> data = {});
  static Notification update(UpdateErrorSubcode subcode, std::vector<std::uint8_t> data = {});
  static Notification hold_timer_expired();
  static Notification fsm(FsmErrorSubcode subcode);
  // A Cease; for administrative shutdown and reset, `message` becomes the Shutdown Communication
  // (RFC 9003 §2: length octet, then at most 255 bytes of UTF-8; longer text is cut).
  static Notification cease(CeaseSubcode subcode, std::string_view message = {});

  // The Shutdown Communication of a Cease 2 or 4 (RFC 9003 §2), when the data holds a
  // well-formed one.
  std::optional<std::string> shutdown_communication() const;

  bool operator==(const Notification&) const = default;
};

// BIRD's wording for a code and subcode (proto/bgp/packets.c, bgp_error_dsc): "Bad peer AS",
// "Hold timer expired", "Connection collision resolution", ...; "Unknown error 6.12" for pairs it
// has no name for. Subcode 0 names the class ("Invalid UPDATE message", "Cease"). calisim adds the
// names BIRD 2.0 lacks: 2/11 "Role mismatch", 6/9 "Hard reset", 6/10 "BFD session down".
std::string notification_name(std::uint8_t code, std::uint8_t subcode);

// The name followed by the data as BIRD logs a NOTIFICATION (bgp_log_error): ": <AS>" for Bad
// peer AS with 2 or 4 bytes of data, ": \"<text>\"" for a Shutdown Communication, else ": " and
// at most 16 data bytes in hex. "Bad peer AS: 64513", "Hold timer expired".
std::string describe(const Notification& notification);

// A message that the receiver must answer with a NOTIFICATION and close (RFC 4271 §6).
struct MessageError {
  Notification notification;
  std::string reason;  // for people and logs: "UPDATE: withdrawn routes length 40 runs past ..."
};

// ---- OPEN (RFC 4271 §4.2) and capabilities (RFC 5492) ---------------------------------------

enum class CapabilityCode : std::uint8_t {
  kMultiprotocol = 1,          // RFC 4760 §8
  kRouteRefresh = 2,           // RFC 2918 §2
  kExtendedNextHop = 5,        // RFC 8950
  kExtendedMessage = 6,        // RFC 8654
  kGracefulRestart = 64,       // RFC 4724 §3
  kFourOctetAs = 65,           // RFC 6793 §3
  kAddPath = 69,               // RFC 7911
  kEnhancedRouteRefresh = 70,  // RFC 7313
  kLongLivedGracefulRestart = 71,
  kFqdn = 73,
  kRouteRefreshOld = 128,  // pre-standard Cisco code; kept as an UnknownCapability
};

struct MultiprotocolCapability {  // code 1: AFI u16, reserved u8, SAFI u8
  AfiSafi family = {};
  bool operator==(const MultiprotocolCapability&) const = default;
};

struct RouteRefreshCapability {  // code 2: no value
  bool operator==(const RouteRefreshCapability&) const = default;
};

struct FourOctetAsCapability {  // code 65: the speaker's AS number, u32
  std::uint32_t as_number = 0;
  bool operator==(const FourOctetAsCapability&) const = default;
};

// Code 64 (RFC 4724 §3): restart flags (4 bits) and time (12 bits, seconds), then one tuple per
// family. RFC 8538 §2 defines the N bit.
struct GracefulRestartCapability {
  struct Family {
    AfiSafi family = {};
    bool forwarding_preserved = false;  // the F bit (0x80) of the family's flags
    bool operator==(const Family&) const = default;
  };
  static constexpr std::uint16_t kMaxRestartTime = 0x0fff;

  bool restart_state = false;  // R bit: the sender has restarted
  bool notification = false;   // N bit: graceful restart also after a NOTIFICATION (RFC 8538)
  std::uint16_t restart_time_s = 0;
  std::vector<Family> families = {};

  bool operator==(const GracefulRestartCapability&) const = default;
};

// Any other capability: code and value kept byte for byte, and sent again as received.
struct UnknownCapability {
  std::uint8_t code = 0;
  std::vector<std::uint8_t> value = {};
  bool operator==(const UnknownCapability&) const = default;
};

using Capability =
    std::variant<MultiprotocolCapability, RouteRefreshCapability, FourOctetAsCapability,
                 GracefulRestartCapability, UnknownCapability>;

std::uint8_t capability_code(const Capability& capability);

struct Open {
  std::uint8_t version = kVersion;
  // As on the wire: AS_TRANS when the speaker's AS does not fit 16 bits (RFC 6793 §4.2.1).
  std::uint16_t my_as = 0;
  std::uint16_t hold_time_s = 0;  // 0, or at least 3 (§4.2)
  Ipv4Address bgp_identifier = {};
  // In the order received. encode_open puts them all in one Capabilities optional parameter
  // (as BIRD does); decode_open accepts them spread over several (as GoBGP sends them).
  std::vector<Capability> capabilities = {};

  // An OPEN as a speaker with AS `as_number` sends it: My AS set to the AS or AS_TRANS, and the
  // capabilities BIRD needs from a peer (reference/wire.md §4.1): multiprotocol IPv4 unicast,
  // route refresh, and 4-octet AS.
  static Open make(std::uint32_t as_number, std::uint16_t hold_time_s, Ipv4Address bgp_identifier);

  // The speaker's AS: the 4-octet AS capability's when present, else My AS (RFC 6793 §4.1).
  std::uint32_t as_number() const;
  bool has_capability(CapabilityCode code) const;
  std::optional<std::uint32_t> four_octet_as() const;
  const GracefulRestartCapability* graceful_restart() const;
  // Multiprotocol capability for `family`; from a peer that sent no capabilities at all, IPv4
  // unicast, the only family BGP-4 had before them (BIRD's rule, reference/wire.md §4.1).
  bool supports(AfiSafi family) const;

  bool operator==(const Open&) const = default;
};

// What the local speaker expects of the peer's OPEN: the checks of RFC 4271 §6.2 that need
// configuration rather than the bytes alone.
struct OpenExpectations {
  std::uint32_t peer_as = 0;  // the configured `neighbor ... as`
  Ipv4Address local_identifier = {};
  bool internal = true;  // iBGP: the identifier must differ from ours (RFC 6286 §2.2)
  std::uint16_t min_hold_time_s = 3;
};

// What two OPENs settle for the UPDATEs that follow: 4-octet AS numbers when both sent
// capability 65 (RFC 6793 §4.1), 65535-byte messages when both sent Extended Message (RFC 8654
// §3), and an internal session when both speak for the same AS.
CodecContext negotiate(const Open& local, const Open& remote);

// Bad peer AS (2/2; data: the AS as 4 bytes when the peer sent capability 65, else its 2-byte
// My AS, as BIRD sends it), bad BGP identifier (2/3; data: the identifier) and unacceptable hold
// time below `min_hold_time_s` (2/6; data: the hold time). nullopt when the OPEN is acceptable.
std::optional<MessageError> validate_open(const Open& open, const OpenExpectations& expect);

// ---- UPDATE (RFC 4271 §4.3, §5) ---------------------------------------------------------------

enum class AttributeType : std::uint8_t {
  kOrigin = 1,
  kAsPath = 2,
  kNextHop = 3,
  kMultiExitDisc = 4,
  kLocalPref = 5,
  kAtomicAggregate = 6,
  kAggregator = 7,
  kCommunities = 8,     // RFC 1997
  kOriginatorId = 9,    // RFC 4456
  kClusterList = 10,    // RFC 4456
  kMpReachNlri = 14,    // RFC 4760
  kMpUnreachNlri = 15,  // RFC 4760
  kAs4Path = 17,        // RFC 6793
  kAs4Aggregator = 18,  // RFC 6793
};

// Attribute Flags (§4.3): the low 4 bits are unused.
inline constexpr std::uint8_t kAttrOptional = 0x80;
inline constexpr std::uint8_t kAttrTransitive = 0x40;
inline constexpr std::uint8_t kAttrPartial = 0x20;
inline constexpr std::uint8_t kAttrExtendedLength = 0x10;

enum class Origin : std::uint8_t { kIgp = 0, kEgp = 1, kIncomplete = 2 };

enum class AsPathSegmentType : std::uint8_t {
  kAsSet = 1,
  kAsSequence = 2,
  kAsConfedSequence = 3,  // RFC 5065 §3
  kAsConfedSet = 4,
};

struct AsPathSegment {
  AsPathSegmentType type = AsPathSegmentType::kAsSequence;
  std::vector<std::uint32_t> as_numbers = {};  // the encoder splits runs longer than 255
  bool operator==(const AsPathSegment&) const = default;
};

struct AsPath {
  std::vector<AsPathSegment> segments = {};

  static AsPath sequence(std::vector<std::uint32_t> as_numbers);
  // The length route selection uses (RFC 4271 §9.1.2.2 a): an AS_SET counts 1, confederation
  // segments 0 (RFC 5065 §5.3).
  std::size_t path_length() const;
  // As BIRD prints bgp_path: "64512 64513 {65000 65001}"; confederation sequences in "( )",
  // confederation sets in "[ ]".
  std::string to_string() const;
  bool operator==(const AsPath&) const = default;
};

struct Aggregator {
  std::uint32_t as_number = 0;
  Ipv4Address address = {};
  bool operator==(const Aggregator&) const = default;
};

// Well-known communities (RFC 1997 §3, RFC 3765 §3).
inline constexpr std::uint32_t kCommunityNoExport = 0xffffff01;
inline constexpr std::uint32_t kCommunityNoAdvertise = 0xffffff02;
inline constexpr std::uint32_t kCommunityNoExportSubconfed = 0xffffff03;
inline constexpr std::uint32_t kCommunityNoPeer = 0xffffff04;
constexpr std::uint32_t community(std::uint16_t as_number, std::uint16_t value) {
  return (std::uint32_t{as_number} << 16) | value;
}

// MP_REACH_NLRI (RFC 4760 §3). The next hop and NLRI stay as bytes: their layout depends on the
// family. For IPv4 and IPv6 unicast the decoder has checked the NLRI (as for the NLRI field).
struct MpReachNlri {
  AfiSafi family = {};
  std::vector<std::uint8_t> next_hop = {};
  std::vector<std::uint8_t> nlri = {};
  bool operator==(const MpReachNlri&) const = default;
};

// MP_UNREACH_NLRI (RFC 4760 §4). With no withdrawn routes and nothing else in the UPDATE, the
// End-of-RIB marker of its family (RFC 4724 §2).
struct MpUnreachNlri {
  AfiSafi family = {};
  std::vector<std::uint8_t> withdrawn = {};
  bool operator==(const MpUnreachNlri&) const = default;
};

// An attribute calisim does not interpret. Only optional transitive ones are kept on decode
// (RFC 4271 §5: unrecognized optional non-transitive attributes are quietly ignored); flags are
// as received, Partial included.
struct RawAttribute {
  std::uint8_t flags = kAttrOptional | kAttrTransitive;
  std::uint8_t type = 0;
  std::vector<std::uint8_t> value = {};
  bool operator==(const RawAttribute&) const = default;
};

// The path attributes of one UPDATE. Absent attributes are nullopt / empty: COMMUNITIES and
// CLUSTER_LIST may not be empty on the wire (RFC 7606 §7.8, §7.10), so empty means absent.
// AS numbers are always 4-octet values (see the file comment).
struct PathAttributes {
  std::optional<Origin> origin = std::nullopt;
  std::optional<AsPath> as_path = std::nullopt;
  std::optional<Ipv4Address> next_hop = std::nullopt;
  std::optional<std::uint32_t> multi_exit_disc = std::nullopt;
  std::optional<std::uint32_t> local_pref = std::nullopt;
  bool atomic_aggregate = false;
  std::optional<Aggregator> aggregator = std::nullopt;
  std::vector<std::uint32_t> communities = {};
  std::optional<Ipv4Address> originator_id = std::nullopt;
  std::vector<Ipv4Address> cluster_list = {};
  std::optional<MpReachNlri> mp_reach = std::nullopt;
  std::optional<MpUnreachNlri> mp_unreach = std::nullopt;
  std::vector<RawAttribute> unknown = {};  // in the order received

  bool operator==(const PathAttributes&) const = default;
};

// Before passing attributes on to another peer: set the Partial bit on every unrecognized
// optional transitive attribute (RFC 4271 §5: "...the Partial bit MUST be set to 1").
void mark_unknown_partial(PathAttributes& attributes);

// A run of prefixes as the NLRI and Withdrawn Routes fields pack them (RFC 4271 §4.3): a length
// octet in bits, then the fewest octets that hold it. parse() checks every entry once; iterating
// then allocates nothing and cannot fail. Trailing bits past the length are ignored ("the value of
// trailing bits is irrelevant"), so prefixes come out masked. The bytes are not copied: the view
// lives as long as the buffer it was parsed from.
class PrefixListView {
 public:
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Ipv4Prefix;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = Ipv4Prefix;

    Iterator() = default;
    Ipv4Prefix operator*() const;
    Iterator& operator++() {
      p_ += 1 + (std::size_t{*p_} + 7) / 8;
      return *this;
    }
    Iterator operator++(int) {
      Iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const Iterator&) const = default;

   private:
    friend class PrefixListView;
    explicit Iterator(const std::uint8_t* p) : p_(p) {}
    const std::uint8_t* p_ = nullptr;
  };

  PrefixListView() = default;
  // kMalformed when a length exceeds `max_length_bits` (32 for IPv4) or an entry runs past the
  // end; the message names the entry's offset.
  [[nodiscard]] static Result<PrefixListView> parse(Bytes bytes, std::uint8_t max_length_bits = 32);

  Iterator begin() const { return Iterator(bytes_.data()); }
  Iterator end() const { return Iterator(bytes_.data() + bytes_.size()); }
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  Bytes bytes() const { return bytes_; }
  std::vector<Ipv4Prefix> to_vector() const;

 private:
  PrefixListView(Bytes bytes, std::size_t count) : bytes_(bytes), count_(count) {}
  Bytes bytes_;
  std::size_t count_ = 0;
};

// Octets one prefix takes in NLRI: 1 + ceil(length / 8).
constexpr std::size_t encoded_prefix_length(const Ipv4Prefix& prefix) {
  return 1 + (std::size_t{prefix.length()} + 7) / 8;
}

// An UPDATE to send: owns its prefixes. Sending withdrawn routes and NLRI in one UPDATE is valid
// (RFC 4271 §4.3) though RFC 7606 §5.1 asks senders to keep them apart; encode_updates and
// encode_withdrawals do.
struct Update {
  std::vector<Ipv4Prefix> withdrawn = {};
  PathAttributes attributes = {};
  std::vector<Ipv4Prefix> nlri = {};
  bool operator==(const Update&) const = default;
};

// What RFC 7606 §2 has a receiver do about a malformed UPDATE, mildest first.
enum class UpdateAction : std::uint8_t {
  kNone,              // nothing wrong
  kAttributeDiscard,  // the attribute was dropped; the routes stand
  kTreatAsWithdraw,   // every route in the UPDATE is withdrawn, as if listed in Withdrawn Routes
  kSessionReset,      // send the NOTIFICATION and close (RFC 4271 §6.3)
};
std::string_view to_string(UpdateAction action);  // "none", "attribute discard", ...

// One error found in an UPDATE and what was done about it.
struct UpdateError {
  UpdateAction action = UpdateAction::kNone;
  // The RFC 4271 §6.3 subcode that names the error (what a NOTIFICATION would carry).
  UpdateErrorSubcode subcode = UpdateErrorSubcode::kUnspecific;
  std::uint8_t attribute_type = 0;  // the attribute at fault; 0 when not about one attribute
  std::string reason;
};

// A decoded UPDATE. The prefix lists point into the message bytes given to decode_update; the
// attributes are values. When `action` is kTreatAsWithdraw, every prefix in `nlri` (and in
// attributes.mp_reach) is to be handled as withdrawn.
struct DecodedUpdate {
  PrefixListView withdrawn;
  PathAttributes attributes = {};
  PrefixListView nlri;
  std::uint16_t path_attributes_length = 0;   // Total Path Attribute Length as received
  UpdateAction action = UpdateAction::kNone;  // the strongest in `errors`
  std::vector<UpdateError> errors;

  // The family whose End-of-RIB this is (RFC 4724 §2): an UPDATE with nothing in it for IPv4
  // unicast, or one holding only an empty MP_UNREACH_NLRI. nullopt for any other UPDATE.
  std::optional<AfiSafi> end_of_rib() const;
  Update to_update() const;
};

struct UpdateDecodeResult {
  DecodedUpdate update;
  // Set exactly when update.action is kSessionReset: what to send before closing.
  std::optional<Notification> notification;
};

// ---- other messages ---------------------------------------------------------------------------

struct Keepalive {
  bool operator==(const Keepalive&) const = default;
};

// RFC 2918 §3; subtype 1/2 are the begin/end of a refresh (RFC 7313 §3), 0 a plain request.
struct RouteRefresh {
  AfiSafi family = kIpv4Unicast;
  std::uint8_t subtype = 0;
  bool operator==(const RouteRefresh&) const = default;
};

using Message = std::variant<Open, DecodedUpdate, Notification, Keepalive, RouteRefresh>;

// ---- encoding ---------------------------------------------------------------------------------
// Each encoder appends one or more whole messages (header included) to `out` and returns the
// bytes it appended. An encoder that fails leaves `out` as it was.

// kOutOfRange if the optional parameters exceed 255 bytes (calisim does not send RFC 9072's
// extended form) or a capability value exceeds 255 bytes.
[[nodiscard]] Result<std::size_t> encode_open(const Open& open, std::vector<std::uint8_t>& out);
std::size_t encode_keepalive(std::vector<std::uint8_t>& out);
// kOutOfRange if the data does not fit in one message.
[[nodiscard]] Result<std::size_t> encode_notification(
    const Notification& notification, std::vector<std::uint8_t>& out,
    std::size_t max_message_length = kMaxMessageLength);
std::size_t encode_route_refresh(const RouteRefresh& refresh, std::vector<std::uint8_t>& out);

// One UPDATE. Attributes go out MP_REACH_NLRI / MP_UNREACH_NLRI first (RFC 7606 §5.1), then by
// ascending type code, each with the Extended Length flag exactly when its value exceeds 255
// bytes. kOutOfRange if the message would exceed ctx.max_message_length.
[[nodiscard]] Result<std::size_t> encode_update(std::span<const Ipv4Prefix> withdrawn,
                                                const PathAttributes& attributes,
                                                std::span<const Ipv4Prefix> nlri,
                                                const CodecContext& ctx,
                                                std::vector<std::uint8_t>& out);
[[nodiscard]] Result<std::size_t> encode_update(const Update& update, const CodecContext& ctx,
                                                std::vector<std::uint8_t>& out);

// As many UPDATEs as `nlri` needs, each carrying `attributes` and as many prefixes as fit in
// ctx.max_message_length (what BIRD does when it flushes a bucket). Returns the number of
// messages; kOutOfRange if the attributes leave no room for even one prefix.
[[nodiscard]] Result<std::size_t> encode_updates(std::span<const Ipv4Prefix> nlri,
                                                 const PathAttributes& attributes,
                                                 const CodecContext& ctx,
                                                 std::vector<std::uint8_t>& out);
// As many attribute-less UPDATEs as `withdrawn` needs. Returns the number of messages.
std::size_t encode_withdrawals(std::span<const Ipv4Prefix> withdrawn, const CodecContext& ctx,
                               std::vector<std::uint8_t>& out);

// How many of `prefixes`, from the front, fit in `space` octets of NLRI.
std::size_t prefixes_that_fit(std::span<const Ipv4Prefix> prefixes, std::size_t space);

// The End-of-RIB marker (RFC 4724 §2): a 23-byte empty UPDATE for IPv4 unicast, else an UPDATE
// with only an empty MP_UNREACH_NLRI for the family.
std::size_t encode_end_of_rib(AfiSafi family, std::vector<std::uint8_t>& out);

// ---- decoding ---------------------------------------------------------------------------------
// Each decoder takes one whole message, header included (what MessageFramer::next yields), and
// checks the header again: marker (1/1), length field equal to the bytes given and within
// 19..ctx.max_message_length (1/2, data: the length field), type (1/3, data: the type) and the
// per-type minimum length (1/2). Malformed input never aborts.

// RFC 4271 §6.2, in BIRD's order: length (1/2), version (2/1, data: 00 04, the version we
// support), optional parameters (2/0 when they run past their length; 2/4, data: the parameter,
// for a type other than Capabilities; RFC 9072 extended lengths accepted), capabilities (2/0 for
// a known one of the wrong length), hold time 1 or 2 (2/6, data: the hold time), identifier 0
// (2/3, RFC 6286 §2.2, data: the identifier), AS 0 (2/2, RFC 7607 §2, data: the AS).
[[nodiscard]] std::expected<Open, MessageError> decode_open(Bytes message);

// RFC 4271 §6.3 as revised by RFC 7606. Session reset (with its NOTIFICATION) for: Withdrawn
// Routes Length or Total Path Attribute Length running past the message (3/1); a malformed
// prefix in Withdrawn Routes or NLRI (3/10); MP_REACH_NLRI / MP_UNREACH_NLRI malformed (3/9 with
// the attribute as data; 3/10 for their prefixes; 3/4 for wrong flags) or repeated (3/1,
// RFC 7606 §3 e); an unrecognized well-known attribute (3/2, data: the attribute); and any error
// that calls for treat-as-withdraw in an UPDATE without reachable NLRI (3/1, RFC 7606 §5.2).
// Treat-as-withdraw for: attribute framing errors (RFC 7606 §4); malformed ORIGIN, AS_PATH,
// NEXT_HOP (also a non-host NEXT_HOP: 0.0.0.0, multicast, class E; RFC 4271 §6.3), MED,
// LOCAL_PREF, COMMUNITIES, ORIGINATOR_ID, CLUSTER_LIST (RFC 7606 §7), attribute flags that
// conflict with the type (RFC 7606 §3 c); a missing ORIGIN, AS_PATH or (with NLRI) NEXT_HOP
// (RFC 7606 §3 d). Attribute discard for: malformed ATOMIC_AGGREGATE, AGGREGATOR (RFC 7606
// §7.6, §7.7), AS4_PATH, AS4_AGGREGATOR (RFC 6793 §6) and any repeat of an attribute (RFC 7606
// §3 g); LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST from an external peer. Checks that need
// configuration or routing state (an eBGP path's first AS, RFC 4271 §6.3; AS loops; a NEXT_HOP
// that is the receiver's own address) are the session's.
[[nodiscard]] UpdateDecodeResult decode_update(Bytes message, const CodecContext& ctx);

// Data shorter than 2 bytes is accepted (code and subcode are all RFC 4271 requires).
[[nodiscard]] std::expected<Notification, MessageError> decode_notification(Bytes message);
// Length other than 23: 1/2 when shorter, 7/1 with the whole message as data when longer
// (RFC 7313 §5, as BIRD does).
[[nodiscard]] std::expected<RouteRefresh, MessageError> decode_route_refresh(Bytes message);

// Any message: the header checks, then the decoder for its type. An UPDATE that needs a session
// reset comes back as its MessageError; milder UPDATE errors ride in DecodedUpdate::errors.
[[nodiscard]] std::expected<Message, MessageError> decode_message(Bytes message,
                                                                  const CodecContext& ctx = {});

// ---- framing ------------------------------------------------------------------------------------

// Cuts the byte stream of a BGP connection into messages. Feed it what TCP delivers, in chunks
// of any size; next() then yields whole messages (header included) as soon as they are complete.
// It checks what framing needs (RFC 4271 §6.1): the marker (1/1) and the length field (19 to the
// maximum; 1/2 with the length field as data). An error is final: the connection must close.
class MessageFramer {
 public:
  explicit MessageFramer(std::size_t max_message_length = kMaxMessageLength);

  // Appends received bytes. Invalidates the views next() returned before.
  void push(Bytes data);
  // The next whole message; nullopt if more bytes are needed; the header error once the stream
  // is broken (and on every call after). The view is valid until the next push().
  [[nodiscard]] std::expected<std::optional<Bytes>, MessageError> next();

  // After the Extended Message capability (RFC 8654) is negotiated.
  void set_max_message_length(std::size_t length) { max_message_length_ = length; }
  std::size_t buffered_bytes() const { return buffer_.size() - read_; }
  bool failed() const { return failure_.has_value(); }

 private:
  std::vector<std::uint8_t> buffer_;
  std::size_t read_ = 0;  // start of the first unread byte in buffer_
  std::size_t max_message_length_;
  std::optional<MessageError> failure_;
};

}  // namespace calisim::wire::bgp
