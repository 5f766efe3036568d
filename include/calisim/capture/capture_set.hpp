#pragma once
// Everything a run captures, behind one call per packet: the pcapng of every interface, and
// optionally one classic pcap per interface and one filtered capture (like
// `tcpdump -i enp0s8 -w out.pcap 'proto 4'`). The pieces (PcapngWriter, PcapWriter, BpfFilter)
// remain usable on their own.

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <calisim/capture/bpf_filter.hpp>
#include <calisim/capture/link_type.hpp>
#include <calisim/capture/pcap_writer.hpp>
#include <calisim/capture/pcapng_writer.hpp>
#include <calisim/sim/result.hpp>
#include <calisim/sim/time.hpp>
#include <calisim/wire/bytes.hpp>

namespace calisim::capture {

struct FilteredCaptureOptions {
  // A path ending in ".pcap" gives a classic pcap, which holds one link type only; anything else
  // gives a pcapng (names, directions and comments kept).
  std::filesystem::path path;
  std::string expression;               // tcpdump syntax; empty keeps every packet
  std::vector<std::string> interfaces;  // interface names to capture on; empty means all
};

struct CaptureOptions {
  std::filesystem::path pcapng_path;
  std::string user_application = "calisim";
  // When set, one classic pcap per interface in this (existing) folder, named after the
  // interface with '/' and other unsafe characters as '_': user-controller_enp0s8.pcap. Each is
  // an open file for the whole run.
  std::optional<std::filesystem::path> per_interface_pcap_dir;
  std::optional<FilteredCaptureOptions> filtered;
};

class CaptureSet {
 public:
  [[nodiscard]] static Result<CaptureSet> open(CaptureOptions options);

  // Registers an interface with every output that wants it. Fails for a name that another
  // interface's per-interface file already has, for a filter expression that does not compile
  // for this link type, and for a second link type in a classic filtered pcap.
  [[nodiscard]] Result<InterfaceId> add_interface(std::string_view name, LinkType link,
                                                  std::string_view description = {});

  [[nodiscard]] Result<void> write_packet(InterfaceId interface, Time timestamp, wire::Bytes frame,
                                          Direction direction = Direction::kUnknown,
                                          std::string_view comment = {});

  // Into the pcapng outputs (classic pcap has no place for secrets).
  [[nodiscard]] Result<void> write_decryption_secrets(std::uint32_t secrets_type,
                                                      wire::Bytes secrets);

  [[nodiscard]] Result<void> flush();
  // Closes every file; reports the first error but closes them all.
  [[nodiscard]] Result<void> close();

  std::uint64_t packets_written() const { return packets_; }
  std::uint64_t packets_kept_by_filter() const { return filtered_packets_; }

  // Where the per-interface pcap of `interface_name` goes inside `dir`.
  static std::filesystem::path per_interface_path(const std::filesystem::path& dir,
                                                  std::string_view interface_name);

 private:
  struct Interface {
    LinkType link;
    std::optional<PcapWriter> pcap;          // per-interface classic pcap
    std::optional<InterfaceId> filtered_id;  // its id in a filtered pcapng
    bool filtered_selected = false;          // the filtered capture listens here
  };

  explicit CaptureSet(CaptureOptions options, PcapngWriter pcapng);
  // Compiles the filter for `link` and opens a classic filtered pcap, before any IDB is written.
  [[nodiscard]] Result<void> prepare_filtered(std::string_view name, LinkType link);

  CaptureOptions options_;
  PcapngWriter pcapng_;
  std::vector<Interface> interfaces_;
  std::set<std::filesystem::path> per_interface_paths_;
  // The filtered output: one of the two, by file extension; one compiled filter per link type.
  std::optional<PcapngWriter> filtered_pcapng_;
  std::optional<PcapWriter> filtered_pcap_;
  std::array<std::optional<BpfFilter>, 2> filters_;
  std::uint64_t packets_ = 0;
  std::uint64_t filtered_packets_ = 0;
};

}  // namespace calisim::capture
