#pragma once
// A pcapng writer (draft-ietf-opsawg-pcapng). libpcap 1.10 can read pcapng but cannot write it,
// and only pcapng carries what a multi-interface simulation needs: every interface of a run in
// one file, each with its own name and link type, nanosecond timestamps, a direction per packet
// and comments.
//
// Output is byte-reproducible: the Section Header Block carries only the application name (no
// hostname, OS or wall-clock time), and timestamps are the simulator's own. Blocks are written
// in host byte order, which the format allows (readers detect it from the byte-order magic).
// Blocks are collected in one buffer and written in large chunks; after the buffer has grown to
// its working size, writing a packet allocates nothing.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <calisim/capture/link_type.hpp>
#include <calisim/sim/result.hpp>
#include <calisim/sim/time.hpp>
#include <calisim/wire/bytes.hpp>

namespace calisim::capture {
namespace detail {
class BackgroundWriter;
}

// An interface's index within the file, in the order add_interface was called (pcapng assigns
// Interface IDs in IDB order, starting from 0).
struct InterfaceId {
  std::uint32_t value = 0;
  friend constexpr bool operator==(InterfaceId, InterfaceId) = default;
};

// Which way a packet crossed the interface it was captured on (epb_flags bits 0-1).
enum class Direction : std::uint8_t { kUnknown, kInbound, kOutbound };

// Secrets types of a Decryption Secrets Block.
inline constexpr std::uint32_t kSecretsTypeWireGuardKeyLog = 0x57474B4C;  // "WGKL"

class PcapngWriter {
 public:
  // Creates (or truncates) `path` and writes the Section Header Block.
  [[nodiscard]] static Result<PcapngWriter> open(const std::filesystem::path& path,
                                                 std::string_view user_application);

  PcapngWriter(PcapngWriter&& other) noexcept;
  PcapngWriter& operator=(PcapngWriter&& other) noexcept;
  PcapngWriter(const PcapngWriter&) = delete;
  PcapngWriter& operator=(const PcapngWriter&) = delete;
  // Flushes and closes; errors are lost, so call close() to see them.
  ~PcapngWriter();

  // Writes an Interface Description Block (if_name, optional if_description, if_tsresol = 9).
  // snaplen 0 means "no limit"; frames longer than a non-zero snaplen are cut to it.
  [[nodiscard]] Result<InterfaceId> add_interface(std::string_view name, LinkType link,
                                                  std::uint32_t snaplen = kDefaultSnaplen,
                                                  std::string_view description = {});

  // Writes an Enhanced Packet Block: the timestamp in nanoseconds, the frame, its direction
  // (epb_flags, omitted when unknown) and an optional comment (opt_comment, UTF-8).
  [[nodiscard]] Result<void> write_packet(InterfaceId interface, Time timestamp, wire::Bytes frame,
                                          Direction direction = Direction::kUnknown,
                                          std::string_view comment = {});

  // Writes a Decryption Secrets Block. Readers apply it to the packets that follow it, so write it
  // before the first packet it decrypts (e.g. kSecretsTypeWireGuardKeyLog with key-log lines).
  [[nodiscard]] Result<void> write_decryption_secrets(std::uint32_t secrets_type,
                                                      wire::Bytes secrets);

  // Hands everything buffered so far to the operating system.
  [[nodiscard]] Result<void> flush();
  // Flushes and closes the file; later writes fail. Closing twice is harmless.
  [[nodiscard]] Result<void> close();

  const std::filesystem::path& path() const { return path_; }
  std::size_t interface_count() const { return interfaces_.size(); }
  bool is_open() const { return fd_ >= 0; }

 private:
  struct Interface {
    LinkType link;
    std::uint32_t snaplen;
  };

  PcapngWriter(std::filesystem::path path, int fd);

  [[nodiscard]] Result<void> check_writable() const;
  // Appends `size` zeroed bytes for one block and returns where they start.
  std::uint8_t* append_block(std::size_t size);
  // Writes the buffer out once it has reached its working size.
  [[nodiscard]] Result<void> block_done();
  [[nodiscard]] Result<void> write_buffer();
  // Waits for the writer thread; reports (and keeps) a failure it met.
  [[nodiscard]] Result<void> drain_background();

  std::filesystem::path path_;
  int fd_ = -1;
  std::vector<std::uint8_t> buffer_;
  // Writes full buffers on its own thread; started with the first full buffer.
  std::unique_ptr<detail::BackgroundWriter> background_;
  std::vector<Interface> interfaces_;
  // Set when a write failed: the file is incomplete, and every later call reports this.
  std::optional<Error> failure_;
};

}  // namespace calisim::capture
