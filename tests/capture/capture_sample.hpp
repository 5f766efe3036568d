#pragma once
// One multi-interface pcapng written the way a simulation run writes it, with what each packet
// should look like when Wireshark reads it back. Shared by the pcapng and determinism tests.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <calisim/capture/pcapng_writer.hpp>

#include "capture/capture_packets.hpp"

namespace calisim::capture::test {

struct SamplePacket {
  std::string interface_name;
  Direction direction;
  std::int64_t time_ns;
  Frame frame;
  std::string comment;
};

inline constexpr const char* kEnp0s8 = "user-controller/enp0s8";
inline constexpr const char* kTunl0 = "user-controller/tunl0";
inline constexpr const char* kVxlan = "user-worker/vxlan.calico";

// Timestamps step by a little over a second, so they cross 2^32 ns (the EPB's high word) and
// every packet has distinct, non-round nanoseconds.
inline std::int64_t sample_time(std::size_t index) {
  return static_cast<std::int64_t>(index) * 1'000'000'007 + 123'456'789;
}

inline std::vector<SamplePacket> sample_packets() {
  struct Spec {
    const char* interface;
    Direction direction;
    Frame frame;
    const char* comment;
  };
  const std::vector<Spec> specs = {
      {kEnp0s8, Direction::kOutbound, arp_request(), ""},
      {kEnp0s8, Direction::kInbound, arp_reply(), ""},
      {kEnp0s8, Direction::kOutbound, echo_request(), "ping 10.96.0.2"},
      {kEnp0s8, Direction::kInbound, echo_reply(), ""},
      {kEnp0s8, Direction::kOutbound, udp_datagram(), ""},
      {kEnp0s8, Direction::kOutbound, tcp_syn(), ""},
      {kEnp0s8, Direction::kInbound, tcp_syn_ack(), ""},
      {kEnp0s8, Direction::kOutbound, tcp_ack(), ""},
      {kTunl0, Direction::kOutbound, strip_ethernet(echo_request()), "pod -> pod, before IPIP"},
      {kEnp0s8, Direction::kOutbound, ipip_ethernet(), "IPIP to 192.168.56.11"},
      {kTunl0, Direction::kInbound, strip_ethernet(echo_reply()), ""},
      {kVxlan, Direction::kUnknown, echo_request(), ""},
      {kEnp0s8, Direction::kOutbound, vxlan_ethernet(), "VXLAN VNI 4096"},
  };
  std::vector<SamplePacket> out;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    out.push_back(SamplePacket{specs[i].interface, specs[i].direction, sample_time(i),
                               specs[i].frame, specs[i].comment});
  }
  return out;
}

// Writes the sample; returns an empty string on success, else what failed.
inline std::string write_sample_pcapng(const std::filesystem::path& path) {
  auto writer = PcapngWriter::open(path, "calisim test");
  if (!writer) return writer.error().message;
  auto enp0s8 = writer->add_interface(kEnp0s8, LinkType::kEthernet, kDefaultSnaplen,
                                      "node NIC of user-controller");
  auto tunl0 = writer->add_interface(kTunl0, LinkType::kRawIp);
  auto vxlan = writer->add_interface(kVxlan, LinkType::kEthernet, 65535);
  if (!enp0s8 || !tunl0 || !vxlan) return "add_interface failed";
  for (const SamplePacket& p : sample_packets()) {
    const InterfaceId id = p.interface_name == kEnp0s8  ? *enp0s8
                           : p.interface_name == kTunl0 ? *tunl0
                                                        : *vxlan;
    auto r = writer->write_packet(id, Time::from_ns(p.time_ns), p.frame, p.direction, p.comment);
    if (!r) return r.error().message;
  }
  if (auto r = writer->close(); !r) return r.error().message;
  return {};
}

}  // namespace calisim::capture::test
