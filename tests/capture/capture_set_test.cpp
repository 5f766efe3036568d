#include <calisim/capture/capture_set.hpp>

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "capture/capture_sample.hpp"

namespace calisim::capture {
namespace {

using calisim::test::read_file;
using calisim::test::run_command;
using calisim::test::work_dir;
using test::tshark;

std::vector<std::string> tcpdump_timestamps(const std::filesystem::path& path) {
  const auto r = run_command("/usr/bin/tcpdump --nano -tt -nr '" + path.string() + "' 2>/dev/null");
  EXPECT_EQ(r.exit_code, 0) << path;
  return test::tcpdump_record_timestamps(r.out);
}

// Adds the sample's three interfaces and writes its packets through `set`.
std::string write_sample(CaptureSet& set) {
  std::map<std::string, InterfaceId> ids;
  const std::vector<std::pair<const char*, LinkType>> interfaces = {
      {test::kEnp0s8, LinkType::kEthernet},
      {test::kTunl0, LinkType::kRawIp},
      {test::kVxlan, LinkType::kEthernet}};
  for (const auto& [name, link] : interfaces) {
    auto id = set.add_interface(name, link);
    if (!id) return id.error().message;
    ids[name] = *id;
  }
  for (const auto& p : test::sample_packets()) {
    auto r = set.write_packet(ids.at(p.interface_name), Time::from_ns(p.time_ns), p.frame,
                              p.direction, p.comment);
    if (!r) return r.error().message;
  }
  return {};
}

std::vector<std::string> sample_times_on(const std::string& interface_name) {
  std::vector<std::string> out;
  for (const auto& p : test::sample_packets()) {
    if (p.interface_name == interface_name) out.push_back(test::epoch_text(p.time_ns));
  }
  return out;
}

TEST(CaptureSet, WritesPcapngPerInterfacePcapsAndAFilteredPcap) {
  const auto dir = work_dir("capture_set_all");
  std::filesystem::create_directories(dir / "pcap");
  CaptureOptions options;
  options.pcapng_path = dir / "capture.pcapng";
  options.per_interface_pcap_dir = dir / "pcap";
  options.filtered = FilteredCaptureOptions{dir / "ipip.pcap", "proto 4", {test::kEnp0s8}};
  auto set = CaptureSet::open(options);
  ASSERT_TRUE(set.has_value()) << set.error().message;
  ASSERT_EQ(write_sample(*set), "");
  EXPECT_EQ(set->packets_written(), test::sample_packets().size());
  EXPECT_EQ(set->packets_kept_by_filter(), 1u);
  ASSERT_TRUE(set->close().has_value());

  // The pcapng has every packet, named by interface.
  const auto r = tshark((dir / "capture.pcapng").string(), "-T fields -e frame.interface_name");
  std::vector<std::string> names;
  for (const auto& p : test::sample_packets()) names.push_back(p.interface_name);
  EXPECT_EQ(calisim::test::lines(r.out), names);

  // One classic pcap per interface, with exactly that interface's packets.
  const auto tunl0 = CaptureSet::per_interface_path(dir / "pcap", test::kTunl0);
  EXPECT_EQ(tunl0.filename(), "user-controller_tunl0.pcap");
  EXPECT_EQ(tcpdump_timestamps(tunl0), sample_times_on(test::kTunl0));
  EXPECT_EQ(tcpdump_timestamps(CaptureSet::per_interface_path(dir / "pcap", test::kEnp0s8)),
            sample_times_on(test::kEnp0s8));
  EXPECT_EQ(tcpdump_timestamps(dir / "pcap" / "user-worker_vxlan.calico.pcap"),
            sample_times_on(test::kVxlan));

  // The filtered pcap holds only the IPIP frame (sample packet 9).
  EXPECT_EQ(tcpdump_timestamps(dir / "ipip.pcap"),
            std::vector<std::string>{test::epoch_text(test::sample_time(9))});
}

TEST(CaptureSet, FilteredPcapngKeepsNamesDirectionsAndComments) {
  const auto dir = work_dir("capture_set_filtered_pcapng");
  CaptureOptions options;
  options.pcapng_path = dir / "capture.pcapng";
  options.filtered = FilteredCaptureOptions{dir / "icmp.pcapng", "icmp", {}};
  auto set = CaptureSet::open(options);
  ASSERT_TRUE(set.has_value()) << set.error().message;
  ASSERT_EQ(write_sample(*set), "");
  ASSERT_TRUE(set->close().has_value());
  // "icmp" matches the outer header only: the IPIP and VXLAN frames are not ICMP on the outside.
  const auto r = tshark((dir / "icmp.pcapng").string(),
                        "-T fields -e frame.interface_name -e frame.packet_flags_direction "
                        "-e frame.comment");
  EXPECT_EQ(r.out,
            "user-controller/enp0s8\t0x00000002\tping 10.96.0.2\n"
            "user-controller/enp0s8\t0x00000001\t\n"
            "user-controller/tunl0\t0x00000002\tpod -> pod, before IPIP\n"
            "user-controller/tunl0\t0x00000001\t\n"
            "user-worker/vxlan.calico\t\t\n");
}

TEST(CaptureSet, ClassicFilteredPcapRefusesASecondLinkType) {
  const auto dir = work_dir("capture_set_two_links");
  CaptureOptions options;
  options.pcapng_path = dir / "capture.pcapng";
  options.filtered = FilteredCaptureOptions{dir / "all.pcap", "", {}};
  auto set = CaptureSet::open(options);
  ASSERT_TRUE(set.has_value()) << set.error().message;
  auto eth = set->add_interface(test::kEnp0s8, LinkType::kEthernet);
  ASSERT_TRUE(eth.has_value());
  auto raw = set->add_interface(test::kTunl0, LinkType::kRawIp);
  ASSERT_FALSE(raw.has_value());
  EXPECT_EQ(raw.error().code, Errc::kUnsupported);
  EXPECT_NE(raw.error().message.find(test::kTunl0), std::string::npos) << raw.error().message;
  // The refused interface left the numbering alone: the next one is interface 1 everywhere.
  auto vxlan = set->add_interface(test::kVxlan, LinkType::kEthernet);
  ASSERT_TRUE(vxlan.has_value());
  EXPECT_EQ(vxlan->value, 1u);
  ASSERT_TRUE(set->write_packet(*vxlan, Time::from_ns(3), test::arp_request()).has_value());
  ASSERT_TRUE(set->close().has_value());
  const auto r = tshark((dir / "capture.pcapng").string(), "-T fields -e frame.interface_name");
  EXPECT_EQ(r.out, std::string(test::kVxlan) + "\n");
}

TEST(CaptureSet, BadFilterAndNameClashesAreErrors) {
  const auto dir = work_dir("capture_set_errors");
  CaptureOptions options;
  options.pcapng_path = dir / "capture.pcapng";
  options.filtered = FilteredCaptureOptions{dir / "f.pcapng", "proto 4 and", {}};
  auto bad = CaptureSet::open(options);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("'proto 4 and'"), std::string::npos) << bad.error().message;

  // Compiles for Ethernet only: accepted at open, refused for a raw-IP interface.
  options.filtered->expression = "ether broadcast";
  auto set = CaptureSet::open(options);
  ASSERT_TRUE(set.has_value()) << set.error().message;
  auto raw = set->add_interface(test::kTunl0, LinkType::kRawIp);
  ASSERT_FALSE(raw.has_value());
  EXPECT_NE(raw.error().message.find(test::kTunl0), std::string::npos) << raw.error().message;
  EXPECT_FALSE(set->write_packet(InterfaceId{0}, Time::from_ns(1), test::arp_request()));

  CaptureOptions per_if;
  per_if.pcapng_path = dir / "p.pcapng";
  per_if.per_interface_pcap_dir = dir;
  auto clash = CaptureSet::open(per_if);
  ASSERT_TRUE(clash.has_value());
  ASSERT_TRUE(clash->add_interface("node/eth0", LinkType::kEthernet).has_value());
  auto again = clash->add_interface("node_eth0", LinkType::kEthernet);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, Errc::kExists);
}

}  // namespace
}  // namespace calisim::capture
