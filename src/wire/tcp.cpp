#include <calisim/wire/tcp.hpp>

#include <utility>

#include <fmt/format.h>

#include <calisim/wire/checksum.hpp>

namespace calisim::wire {
namespace {

// Fixed lengths of the options calisim understands (kind and length bytes included).
constexpr std::size_t kMssLength = 4;
constexpr std::size_t kWindowScaleLength = 3;
constexpr std::size_t kSackPermittedLength = 2;
constexpr std::size_t kTimestampsLength = 10;
constexpr std::size_t kSackBlockLength = 8;

constexpr std::uint8_t kind_byte(TcpOptionKind kind) { return static_cast<std::uint8_t>(kind); }

const char* option_name(std::uint8_t kind) {
  switch (TcpOptionKind{kind}) {
    case TcpOptionKind::kEndOfList: return "EOL";
    case TcpOptionKind::kNoOperation: return "NOP";
    case TcpOptionKind::kMss: return "MSS";
    case TcpOptionKind::kWindowScale: return "window scale";
    case TcpOptionKind::kSackPermitted: return "SACK-permitted";
    case TcpOptionKind::kSack: return "SACK";
    case TcpOptionKind::kTimestamps: return "timestamps";
  }
  return "unknown";
}

Error wrong_length(std::uint8_t kind, std::size_t offset, std::size_t length, const char* want) {
  return Error{Errc::kMalformed,
               fmt::format("tcp: {} option (kind {}) at header offset {} has length {}, want {}",
                           option_name(kind), kind, offset, length, want)};
}

}  // namespace

std::string TcpFlags::to_string() const {
  static constexpr std::pair<TcpFlag, char> kLetters[] = {
      {TcpFlag::kFin, 'F'}, {TcpFlag::kSyn, 'S'}, {TcpFlag::kRst, 'R'}, {TcpFlag::kPsh, 'P'},
      {TcpFlag::kAck, '.'}, {TcpFlag::kUrg, 'U'}, {TcpFlag::kEce, 'E'}, {TcpFlag::kCwr, 'W'},
  };
  if (empty()) return "none";
  std::string out;
  for (const auto& [flag, letter] : kLetters) {
    if (has(flag)) out.push_back(letter);
  }
  return out;
}

Result<TcpView> TcpView::parse(Bytes bytes) {
  if (bytes.size() < kMinHeaderLength) {
    return make_error(Errc::kTruncated,
                      fmt::format("tcp: {} bytes present, a header needs at least {}",
                                  bytes.size(), kMinHeaderLength));
  }
  const std::size_t data_offset = bytes[kDataOffsetOffset] >> 4;
  if (data_offset < kMinHeaderLength / 4) {
    return make_error(Errc::kMalformed,
                      fmt::format("tcp: data offset {} is below the minimum of 5 (20 bytes)",
                                  data_offset));
  }
  if (data_offset * 4 > bytes.size()) {
    return make_error(Errc::kTruncated,
                      fmt::format("tcp: data offset {} ({} bytes) exceeds the {} bytes present",
                                  data_offset, data_offset * 4, bytes.size()));
  }
  if (bytes.size() > 0xffff) {
    return make_error(Errc::kMalformed,
                      fmt::format("tcp: segment of {} bytes is longer than 65535", bytes.size()));
  }
  return TcpView(bytes);
}

bool TcpView::checksum_valid(Ipv4Address source, Ipv4Address destination) const {
  const std::uint32_t sum =
      pseudo_header_sum(source, destination, kTcpProtocolNumber,
                        static_cast<std::uint16_t>(bytes_.size())) +
      checksum_accumulate(0, bytes_);
  return checksum_finish(sum) == 0;
}

Result<TcpOptions> TcpOptions::parse(Bytes options) {
  TcpOptions out;
  std::size_t i = 0;
  while (i < options.size()) {
    const std::uint8_t kind = options[i];
    const std::size_t offset = TcpView::kOptionsOffset + i;  // for messages: offset in the header
    if (kind == kind_byte(TcpOptionKind::kEndOfList)) break;
    if (kind == kind_byte(TcpOptionKind::kNoOperation)) {
      ++i;
      continue;
    }
    if (i + 1 >= options.size()) {
      return make_error(Errc::kMalformed,
                        fmt::format("tcp: {} option (kind {}) at header offset {} has no length "
                                    "byte before the end of the header",
                                    option_name(kind), kind, offset));
    }
    const std::size_t length = options[i + 1];
    if (length < 2) {
      return make_error(Errc::kMalformed,
                        fmt::format("tcp: {} option (kind {}) at header offset {} has length {}, "
                                    "less than 2",
                                    option_name(kind), kind, offset, length));
    }
    if (i + length > options.size()) {
      return make_error(Errc::kMalformed,
                        fmt::format("tcp: {} option (kind {}) at header offset {} with length {} "
                                    "runs past the {}-byte header",
                                    option_name(kind), kind, offset, length,
                                    TcpView::kOptionsOffset + options.size()));
    }
    const std::uint8_t* value = options.data() + i + 2;
    switch (TcpOptionKind{kind}) {
      case TcpOptionKind::kMss:
        if (length != kMssLength) return std::unexpected(wrong_length(kind, offset, length, "4"));
        out.mss = load_be16(value);
        break;
      case TcpOptionKind::kWindowScale:
        if (length != kWindowScaleLength) {
          return std::unexpected(wrong_length(kind, offset, length, "3"));
        }
        out.window_scale = value[0];
        break;
      case TcpOptionKind::kSackPermitted:
        if (length != kSackPermittedLength) {
          return std::unexpected(wrong_length(kind, offset, length, "2"));
        }
        out.sack_permitted = true;
        break;
      case TcpOptionKind::kSack: {
        if (length < 2 + kSackBlockLength || (length - 2) % kSackBlockLength != 0) {
          return std::unexpected(wrong_length(kind, offset, length, "2 + 8n, n >= 1"));
        }
        // 40 option bytes hold at most 4 blocks, so the array cannot overflow.
        const std::size_t count = (length - 2) / kSackBlockLength;
        for (std::size_t b = 0; b < count; ++b) {
          const std::uint8_t* block = value + b * kSackBlockLength;
          out.sack_blocks[b] =
              TcpSackBlock{.left_edge = load_be32(block), .right_edge = load_be32(block + 4)};
        }
        out.sack_block_count = static_cast<std::uint8_t>(count);
        break;
      }
      case TcpOptionKind::kTimestamps:
        if (length != kTimestampsLength) {
          return std::unexpected(wrong_length(kind, offset, length, "10"));
        }
        out.timestamps =
            TcpTimestamps{.value = load_be32(value), .echo_reply = load_be32(value + 4)};
        break;
      case TcpOptionKind::kEndOfList:
      case TcpOptionKind::kNoOperation:
        break;  // handled above
    }
    i += length;
  }
  return out;
}

std::size_t TcpOptions::length() const {
  std::size_t n = 0;
  if (mss) n += 4;
  if (timestamps) n += 12;  // 2 bytes of NOP or SACK-permitted, then the 10-byte option
  else if (sack_permitted) n += 4;
  if (window_scale) n += 4;
  if (sack_block_count != 0) n += 4 + kSackBlockLength * sack_block_count;
  return n;
}

void TcpOptions::emit(MutableBytes out) const {
  const std::size_t total = length();
  CALISIM_CHECK(total <= TcpHeader::kMaxOptionsLength, "tcp: options exceed 40 bytes");
  CALISIM_CHECK(out.size() >= total, "tcp: no room for the options");
  CALISIM_CHECK(sack_block_count <= kMaxSackBlocks, "tcp: more SACK blocks than fit");
  constexpr std::uint8_t kNop = kind_byte(TcpOptionKind::kNoOperation);
  std::uint8_t* p = out.data();
  if (mss) {
    p[0] = kind_byte(TcpOptionKind::kMss);
    p[1] = kMssLength;
    store_be16(p + 2, *mss);
    p += 4;
  }
  if (timestamps) {
    if (sack_permitted) {
      p[0] = kind_byte(TcpOptionKind::kSackPermitted);
      p[1] = kSackPermittedLength;
    } else {
      p[0] = kNop;
      p[1] = kNop;
    }
    p[2] = kind_byte(TcpOptionKind::kTimestamps);
    p[3] = kTimestampsLength;
    store_be32(p + 4, timestamps->value);
    store_be32(p + 8, timestamps->echo_reply);
    p += 12;
  } else if (sack_permitted) {
    p[0] = kNop;
    p[1] = kNop;
    p[2] = kind_byte(TcpOptionKind::kSackPermitted);
    p[3] = kSackPermittedLength;
    p += 4;
  }
  if (window_scale) {
    p[0] = kNop;
    p[1] = kind_byte(TcpOptionKind::kWindowScale);
    p[2] = kWindowScaleLength;
    p[3] = *window_scale;
    p += 4;
  }
  if (sack_block_count != 0) {
    p[0] = kNop;
    p[1] = kNop;
    p[2] = kind_byte(TcpOptionKind::kSack);
    p[3] = static_cast<std::uint8_t>(2 + kSackBlockLength * sack_block_count);
    p += 4;
    for (std::size_t b = 0; b < sack_block_count; ++b) {
      store_be32(p, sack_blocks[b].left_edge);
      store_be32(p + 4, sack_blocks[b].right_edge);
      p += kSackBlockLength;
    }
  }
}

Result<TcpHeader> TcpHeader::parse(Bytes bytes, Ipv4Address source, Ipv4Address destination) {
  auto view = TcpView::parse(bytes);
  if (!view) return std::unexpected(view.error());
  auto header = from_view(*view);
  if (!header) return header;
  if (!view->checksum_valid(source, destination)) {
    return make_error(Errc::kBadChecksum,
                      fmt::format("tcp: checksum 0x{:04x} does not verify for {}:{} -> {}:{}",
                                  view->checksum(), source, view->source_port(), destination,
                                  view->destination_port()));
  }
  return header;
}

Result<TcpHeader> TcpHeader::from_view(const TcpView& view) {
  auto options = TcpOptions::parse(view.options());
  if (!options) return std::unexpected(options.error());
  return TcpHeader{
      .source_port = view.source_port(),
      .destination_port = view.destination_port(),
      .sequence_number = view.sequence_number(),
      .acknowledgment_number = view.acknowledgment_number(),
      .reserved = view.reserved(),
      .flags = view.flags(),
      .window = view.window(),
      .urgent_pointer = view.urgent_pointer(),
      .options = *options,
  };
}

void TcpHeader::emit(MutableBytes segment, Ipv4Address source, Ipv4Address destination) const {
  const std::size_t length = header_length();
  CALISIM_CHECK(segment.size() >= length, "tcp: segment shorter than its header");
  CALISIM_CHECK(segment.size() <= 0xffff, "tcp: segment longer than the pseudo-header allows");
  CALISIM_CHECK(reserved <= 0x0f, "tcp: reserved field wider than 4 bits");
  std::uint8_t* p = segment.data();
  store_be16(p + TcpView::kSourcePortOffset, source_port);
  store_be16(p + TcpView::kDestinationPortOffset, destination_port);
  store_be32(p + TcpView::kSequenceNumberOffset, sequence_number);
  store_be32(p + TcpView::kAcknowledgmentNumberOffset, acknowledgment_number);
  p[TcpView::kDataOffsetOffset] = static_cast<std::uint8_t>(((length / 4) << 4) | reserved);
  p[TcpView::kFlagsOffset] = flags.bits();
  store_be16(p + TcpView::kWindowOffset, window);
  store_be16(p + TcpView::kChecksumOffset, 0);
  store_be16(p + TcpView::kUrgentPointerOffset, urgent_pointer);
  options.emit(segment.subspan(TcpView::kOptionsOffset, length - kMinLength));
  const std::uint16_t checksum = checksum_finish(
      pseudo_header_sum(source, destination, kTcpProtocolNumber,
                        static_cast<std::uint16_t>(segment.size())) +
      checksum_accumulate(0, segment));
  store_be16(p + TcpView::kChecksumOffset, checksum);
}

}  // namespace calisim::wire
