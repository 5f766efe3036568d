#pragma once
// A classic pcap file for one interface, written by libpcap (pcap_dump), with nanosecond
// timestamps (magic 0xA1B23C4D). Classic pcap has one link type per file and no interface names;
// it is what tcpdump and older tools read everywhere. The pcapng writer is the main capture.

#include <cstdint>
#include <filesystem>
#include <memory>

#include <calisim/capture/link_type.hpp>
#include <calisim/sim/result.hpp>
#include <calisim/sim/time.hpp>
#include <calisim/wire/bytes.hpp>

namespace calisim::capture {

class PcapWriter {
 public:
  // Creates (or truncates) `path` and writes the 24-byte file header. snaplen must not be 0
  // (draft-ietf-opsawg-pcap §4); frames longer than it are cut to it.
  [[nodiscard]] static Result<PcapWriter> open(const std::filesystem::path& path, LinkType link,
                                               std::uint32_t snaplen = kDefaultSnaplen);

  PcapWriter(PcapWriter&&) noexcept;
  PcapWriter& operator=(PcapWriter&&) noexcept;
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;
  // Flushes and closes; errors are lost, so call close() to see them.
  ~PcapWriter();

  [[nodiscard]] Result<void> write_packet(Time timestamp, wire::Bytes frame);
  [[nodiscard]] Result<void> flush();
  // Flushes and closes the file; later writes fail. Closing twice is harmless.
  [[nodiscard]] Result<void> close();

  const std::filesystem::path& path() const;
  LinkType link_type() const;
  bool is_open() const;

 private:
  struct Impl;  // the libpcap handles: pcap.h stays out of public headers
  explicit PcapWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace calisim::capture
