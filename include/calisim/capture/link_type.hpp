#pragma once
// The link-layer header types calisim writes, and the two numbering schemes libpcap uses for
// them: LINKTYPE_* values go into files, DLT_* values go through the libpcap API. They differ
// for raw IP (LINKTYPE_RAW 101 in files, DLT_RAW 12 on Linux / 14 on OpenBSD in the API), and
// libpcap maps DLT_RAW to 101 itself when it writes a file header, so 101 must never be passed
// to pcap_open_dead (draft-ietf-opsawg-pcap linktypes.csv; libpcap pcap-common.c).

#include <cstdint>
#include <string_view>

namespace calisim::capture {

// Snapshot length when none is given: tcpdump's default, larger than any frame calisim builds.
inline constexpr std::uint32_t kDefaultSnaplen = 262144;

enum class LinkType : std::uint8_t {
  kEthernet,  // 14-byte DIX header, no FCS (LINKTYPE_ETHERNET 1, DLT_EN10MB 1)
  kRawIp,     // starts with an IPv4 or IPv6 header, as on tunl0 / wireguard.cali (LINKTYPE_RAW)
};

// The LinkType field of a pcap file header or a pcapng Interface Description Block.
constexpr std::uint16_t file_link_type(LinkType link) {
  switch (link) {
    case LinkType::kEthernet:
      return 1;
    case LinkType::kRawIp:
      return 101;
  }
  return 0;
}

// The DLT_* value for pcap_open_dead and friends, from libpcap's own headers on this platform.
int dlt_link_type(LinkType link);

constexpr std::string_view to_string(LinkType link) {
  switch (link) {
    case LinkType::kEthernet:
      return "ethernet";
    case LinkType::kRawIp:
      return "raw-ip";
  }
  return "unknown";
}

}  // namespace calisim::capture
