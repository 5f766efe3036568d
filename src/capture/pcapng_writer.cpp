#include <calisim/capture/pcapng_writer.hpp>

#include "capture/background_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <system_error>
#include <utility>

#include <fmt/format.h>

namespace calisim::capture {
namespace {

// Block types and option codes (draft-ietf-opsawg-pcapng §4, §4.2, §4.3, §4.7).
constexpr std::uint32_t kSectionHeaderBlock = 0x0A0D0D0A;
constexpr std::uint32_t kInterfaceDescriptionBlock = 0x00000001;
constexpr std::uint32_t kEnhancedPacketBlock = 0x00000006;
constexpr std::uint32_t kDecryptionSecretsBlock = 0x0000000A;
constexpr std::uint32_t kByteOrderMagic = 0x1A2B3C4D;

constexpr std::uint16_t kOptEndOfOpt = 0;
constexpr std::uint16_t kOptComment = 1;
constexpr std::uint16_t kShbUserAppl = 4;
constexpr std::uint16_t kIfName = 2;
constexpr std::uint16_t kIfDescription = 3;
constexpr std::uint16_t kIfTsresol = 9;
constexpr std::uint16_t kEpbFlags = 2;

// if_tsresol: MSB clear, so 10^-9 s. Without it readers assume microseconds.
constexpr std::uint8_t kNanosecondResolution = 9;

// Block framing: type + total length in front, total length again at the end.
constexpr std::size_t kBlockOverhead = 12;
constexpr std::size_t kOptionHeader = 4;
constexpr std::size_t kMaxOptionLength = std::numeric_limits<std::uint16_t>::max();

// The buffer is written out once it holds this much. Its capacity leaves room for one more
// block of the largest usual size (a 256 KiB frame plus a 64 KiB comment), so it never regrows.
constexpr std::size_t kFlushThreshold = 512 * 1024;
constexpr std::size_t kBufferCapacity = 1024 * 1024;

constexpr std::size_t pad4(std::size_t n) {
  return (n + 3) & ~std::size_t{3};
}
constexpr std::size_t option_size(std::size_t value_length) {
  return kOptionHeader + pad4(value_length);
}

// Writes fields in host byte order at a moving position inside space already sized and zeroed
// (so padding needs no writes).
class BlockCursor {
 public:
  explicit BlockCursor(std::uint8_t* p) : p_(p) {}

  void u16(std::uint16_t v) { put(&v, sizeof v); }
  void u32(std::uint32_t v) { put(&v, sizeof v); }
  void i64(std::int64_t v) { put(&v, sizeof v); }
  void bytes_padded(const void* data, std::size_t n) {
    if (n != 0) std::memcpy(p_, data, n);
    p_ += pad4(n);
  }
  void option(std::uint16_t code, const void* value, std::size_t n) {
    u16(code);
    u16(static_cast<std::uint16_t>(n));
    bytes_padded(value, n);
  }
  void option(std::uint16_t code, std::string_view value) {
    option(code, value.data(), value.size());
  }
  void end_of_options() { u32(0); }  // opt_endofopt: code 0, length 0

 private:
  void put(const void* v, std::size_t n) {
    std::memcpy(p_, v, n);
    p_ += n;
  }
  std::uint8_t* p_;
};

// Starts a block of `total` bytes (whose body the caller fills) and writes its trailing length.
BlockCursor begin_block(std::uint8_t* start, std::uint32_t type, std::size_t total) {
  const auto total32 = static_cast<std::uint32_t>(total);
  std::memcpy(start + total - 4, &total32, 4);
  BlockCursor c(start);
  c.u32(type);
  c.u32(total32);
  return c;
}

Error os_error(const std::filesystem::path& path, std::string_view what, int err) {
  return Error{Errc::kIo, fmt::format("pcapng: cannot {} {}: {}", what, path.string(),
                                      std::error_code(err, std::generic_category()).message())};
}

}  // namespace

Result<PcapngWriter> PcapngWriter::open(const std::filesystem::path& path,
                                        std::string_view user_application) {
  if (user_application.size() > kMaxOptionLength) {
    return make_error(Errc::kOutOfRange,
                      fmt::format("pcapng: {}: user application name is {} bytes, limit {}",
                                  path.string(), user_application.size(), kMaxOptionLength));
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return std::unexpected(os_error(path, "create", errno));
  PcapngWriter writer(path, fd);

  // Section Header Block; version 1.0 (never 1.2), section length -1 = not given.
  std::size_t options = 0;
  if (!user_application.empty()) options += option_size(user_application.size()) + kOptionHeader;
  const std::size_t total = kBlockOverhead + 16 + options;
  BlockCursor c = begin_block(writer.append_block(total), kSectionHeaderBlock, total);
  c.u32(kByteOrderMagic);
  c.u16(1);
  c.u16(0);
  c.i64(-1);
  if (!user_application.empty()) {
    c.option(kShbUserAppl, user_application);
    c.end_of_options();
  }
  if (auto r = writer.block_done(); !r) return std::unexpected(r.error());
  return writer;
}

PcapngWriter::PcapngWriter(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {
  buffer_.reserve(kBufferCapacity);
}

PcapngWriter::PcapngWriter(PcapngWriter&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      buffer_(std::move(other.buffer_)),
      background_(std::move(other.background_)),
      interfaces_(std::move(other.interfaces_)),
      failure_(std::move(other.failure_)) {}

PcapngWriter& PcapngWriter::operator=(PcapngWriter&& other) noexcept {
  if (this != &other) {
    (void)close();
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    buffer_ = std::move(other.buffer_);
    background_ = std::move(other.background_);
    interfaces_ = std::move(other.interfaces_);
    failure_ = std::move(other.failure_);
  }
  return *this;
}

PcapngWriter::~PcapngWriter() {
  (void)close();
}

Result<InterfaceId> PcapngWriter::add_interface(std::string_view name, LinkType link,
                                                std::uint32_t snaplen,
                                                std::string_view description) {
  if (auto r = check_writable(); !r) return std::unexpected(r.error());
  if (name.size() > kMaxOptionLength || description.size() > kMaxOptionLength) {
    return make_error(Errc::kOutOfRange,
                      fmt::format("pcapng: {}: interface name or description of '{:.40}' is "
                                  "longer than {} bytes",
                                  path_.string(), name, kMaxOptionLength));
  }
  std::size_t options = option_size(1) + kOptionHeader;  // if_tsresol, opt_endofopt
  if (!name.empty()) options += option_size(name.size());
  if (!description.empty()) options += option_size(description.size());
  const std::size_t total = kBlockOverhead + 8 + options;

  BlockCursor c = begin_block(append_block(total), kInterfaceDescriptionBlock, total);
  c.u16(file_link_type(link));
  c.u16(0);  // reserved
  c.u32(snaplen);
  if (!name.empty()) c.option(kIfName, name);
  if (!description.empty()) c.option(kIfDescription, description);
  c.option(kIfTsresol, &kNanosecondResolution, 1);
  c.end_of_options();

  const InterfaceId id{static_cast<std::uint32_t>(interfaces_.size())};
  interfaces_.push_back(Interface{link, snaplen});
  if (auto r = block_done(); !r) return std::unexpected(r.error());
  return id;
}

Result<void> PcapngWriter::write_packet(InterfaceId interface, Time timestamp, wire::Bytes frame,
                                        Direction direction, std::string_view comment) {
  if (auto r = check_writable(); !r) return r;
  if (interface.value >= interfaces_.size()) {
    return make_error(Errc::kNotFound,
                      fmt::format("pcapng: {}: no interface {} (the file has {})", path_.string(),
                                  interface.value, interfaces_.size()));
  }
  if (timestamp.ns() < 0) {
    return make_error(Errc::kOutOfRange,
                      fmt::format("pcapng: {}: timestamp {} ns is before the start of the run",
                                  path_.string(), timestamp.ns()));
  }
  if (frame.size() > std::numeric_limits<std::uint32_t>::max() ||
      comment.size() > kMaxOptionLength) {
    return make_error(Errc::kOutOfRange,
                      fmt::format("pcapng: {}: frame of {} bytes or comment of {} bytes too long",
                                  path_.string(), frame.size(), comment.size()));
  }
  const Interface& info = interfaces_[interface.value];
  const std::size_t captured =
      info.snaplen == 0 ? frame.size() : std::min<std::size_t>(frame.size(), info.snaplen);

  std::uint32_t flags = 0;
  if (direction == Direction::kInbound) flags = 0b01;
  if (direction == Direction::kOutbound) flags = 0b10;
  std::size_t options = 0;
  if (flags != 0) options += option_size(4);
  if (!comment.empty()) options += option_size(comment.size());
  if (options != 0) options += kOptionHeader;
  const std::size_t total = kBlockOverhead + 20 + pad4(captured) + options;
  if (total > std::numeric_limits<std::uint32_t>::max()) {
    return make_error(Errc::kOutOfRange, fmt::format("pcapng: {}: a {}-byte block does not fit",
                                                     path_.string(), total));
  }

  const auto ns = static_cast<std::uint64_t>(timestamp.ns());
  BlockCursor c = begin_block(append_block(total), kEnhancedPacketBlock, total);
  c.u32(interface.value);
  c.u32(static_cast<std::uint32_t>(ns >> 32));
  c.u32(static_cast<std::uint32_t>(ns));
  c.u32(static_cast<std::uint32_t>(captured));
  c.u32(static_cast<std::uint32_t>(frame.size()));
  c.bytes_padded(frame.data(), captured);
  if (flags != 0) c.option(kEpbFlags, &flags, sizeof flags);
  if (!comment.empty()) c.option(kOptComment, comment);
  if (options != 0) c.end_of_options();
  return block_done();
}

Result<void> PcapngWriter::write_decryption_secrets(std::uint32_t secrets_type,
                                                    wire::Bytes secrets) {
  if (auto r = check_writable(); !r) return r;
  if (secrets.size() > std::numeric_limits<std::uint32_t>::max() - 64) {
    return make_error(Errc::kOutOfRange, fmt::format("pcapng: {}: {} bytes of secrets is too many",
                                                     path_.string(), secrets.size()));
  }
  const std::size_t total = kBlockOverhead + 8 + pad4(secrets.size());
  BlockCursor c = begin_block(append_block(total), kDecryptionSecretsBlock, total);
  c.u32(secrets_type);
  c.u32(static_cast<std::uint32_t>(secrets.size()));
  c.bytes_padded(secrets.data(), secrets.size());
  return block_done();
}

Result<void> PcapngWriter::flush() {
  if (auto r = check_writable(); !r) return r;
  if (auto r = drain_background(); !r) return r;
  return write_buffer();
}

Result<void> PcapngWriter::close() {
  if (fd_ < 0) return {};
  Result<void> result = drain_background();
  if (result) result = failure_ ? Result<void>(std::unexpected(*failure_)) : write_buffer();
  background_.reset();
  if (::close(fd_) != 0 && result) result = std::unexpected(os_error(path_, "close", errno));
  fd_ = -1;
  buffer_.clear();
  return result;
}

Result<void> PcapngWriter::check_writable() const {
  if (failure_) return std::unexpected(*failure_);
  if (fd_ < 0) {
    return make_error(Errc::kIo, fmt::format("pcapng: {} is already closed", path_.string()));
  }
  return {};
}

std::uint8_t* PcapngWriter::append_block(std::size_t size) {
  const std::size_t offset = buffer_.size();
  buffer_.resize(offset + size);  // zero-filled, so padding needs no writes
  return buffer_.data() + offset;
}

Result<void> PcapngWriter::block_done() {
  if (buffer_.size() < kFlushThreshold) return {};
  // Full buffers go to the writer thread; the simulation carries on filling the other one.
  if (!background_) background_ = std::make_unique<detail::BackgroundWriter>(fd_);
  if (const int err = background_->submit(buffer_); err != 0) {
    failure_ = os_error(path_, "write", err);
    return std::unexpected(*failure_);
  }
  if (buffer_.capacity() < kBufferCapacity) buffer_.reserve(kBufferCapacity);
  return {};
}

Result<void> PcapngWriter::drain_background() {
  if (!background_) return {};
  if (const int err = background_->drain(); err != 0 && !failure_) {
    failure_ = os_error(path_, "write", err);
  }
  if (failure_) return std::unexpected(*failure_);
  return {};
}

Result<void> PcapngWriter::write_buffer() {
  const std::uint8_t* p = buffer_.data();
  std::size_t left = buffer_.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      failure_ = os_error(path_, "write", errno);
      return std::unexpected(*failure_);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  buffer_.clear();  // keeps the capacity
  return {};
}

}  // namespace calisim::capture
