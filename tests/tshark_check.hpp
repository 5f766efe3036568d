#pragma once
// tshark on a capture: the checks of #2 that every scenario's capture must pass (issue #3,
// acceptance): nothing malformed, no expert error, no bad IP/ICMP/UDP/TCP checksum, at least a
// given number of packets (an empty or missing capture fails), and for lossless TCP runs no
// tcp.analysis.flags other than window updates. Wireshark's checksum status values (epan/proto.h,
// PROTO_CHECKSUM_E_*): 0 bad, 1 good, 2 unverified, 3 not present, 4 illegal.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace calisim::test {

// Every checksum is verified, not only those Wireshark checks by default (ICMP's).
inline constexpr const char* kTsharkVerifyChecksums =
    "-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE ";

// `tshark -r file ARGS` (standard output only; "Running as user root" goes to stderr).
inline CommandResult tshark(const std::filesystem::path& file, const std::string& args) {
  return run_command("tshark -r '" + file.string() + "' " + kTsharkVerifyChecksums + args +
                     " 2>/dev/null");
}

// The packets that match a display filter, as `-T fields -e FIELDS` lines (one per packet).
inline std::vector<std::string> tshark_fields(const std::filesystem::path& file,
                                              const std::string& filter,
                                              const std::vector<std::string>& fields) {
  std::string args = "-Y '" + filter + "' -T fields";
  for (const auto& f : fields) args += " -e " + f;
  const auto r = tshark(file, args);
  EXPECT_EQ(r.exit_code, 0) << "tshark " << args;
  return lines(r.out);
}

// How many packets match a display filter.
inline std::size_t tshark_count(const std::filesystem::path& file, const std::string& filter) {
  return tshark_fields(file, filter, {"frame.number"}).size();
}

// The packets of one interface of a multi-interface capture, as a file of their own next to it
// ("capture.pcapng" -> "capture.<iface>.pcapng", '/' as '_'): what tcpdump -i IFACE would
// have written. tshark's TCP analysis must run per interface: in one file with every device,
// each segment shows up once per device it crossed, and those copies look like
// retransmissions.
inline std::filesystem::path tshark_one_interface(const std::filesystem::path& file,
                                                  const std::string& interface) {
  std::string safe = interface;
  for (char& c : safe) {
    if (c == '/') c = '_';
  }
  auto out = file;
  out.replace_extension("." + safe + ".pcapng");
  const auto r = run_command("tshark -r '" + file.string() + "' -Y 'frame.interface_name == \"" +
                             interface + "\"' -w '" + out.string() + "' 2>/dev/null");
  EXPECT_EQ(r.exit_code, 0) << "tshark could not split " << interface << " out of " << file;
  return out;
}

struct TsharkClean {
  std::size_t min_packets = 1;  // fewer packets than this fails (an empty capture is no proof)
  // Lossless runs: tshark's TCP analysis, on each interface's packets alone, must find nothing
  // but window updates (no retransmission, dup ACK, out-of-order, zero window, ...).
  bool lossless_tcp = false;
};

// Checks a capture as above; failures name the capture and list the offending packets.
//
// Two passes. Malformed packets and expert errors with Wireshark's default preferences (as a
// user opening the file sees it). Then every checksum verified, the TCP and UDP ones except
// inside an ICMP error: the quoted datagram is cut short (RFC 792 quotes 8 bytes, Linux up to
// 576 in all, icmp_send), so its transport checksum can never verify, in a capture of a real
// kernel as here. The ICMP checksum still covers the quote.
inline void expect_tshark_clean(const std::filesystem::path& file, TsharkClean want = {}) {
  SCOPED_TRACE("tshark checks of " + file.string());
  ASSERT_EQ(run_command("command -v tshark >/dev/null").exit_code, 0)
      << "tshark is not installed (scripts/install-deps.sh installs it)";
  ASSERT_TRUE(std::filesystem::exists(file)) << file;
  const auto errors =
      run_command("tshark -r '" + file.string() +
                  "' -Y '_ws.malformed || _ws.expert.severity >= error' 2>/dev/null");
  EXPECT_EQ(errors.exit_code, 0);
  EXPECT_EQ(errors.out, "");
  const auto checksums =
      tshark(file,
             "-Y 'ip.checksum.status == 0 || icmp.checksum.status == 0 || "
             "(!icmp && (udp.checksum.status == 0 || tcp.checksum.status == 0))'");
  EXPECT_EQ(checksums.exit_code, 0);
  EXPECT_EQ(checksums.out, "");
  const auto all = tshark(file, "-T fields -e frame.number");
  ASSERT_EQ(all.exit_code, 0);
  EXPECT_GE(lines(all.out).size(), want.min_packets);
  if (!want.lossless_tcp) return;
  std::vector<std::string> interfaces;
  for (const auto& name : tshark_fields(file, "tcp", {"frame.interface_name"})) {
    if (std::find(interfaces.begin(), interfaces.end(), name) == interfaces.end()) {
      interfaces.push_back(name);
    }
  }
  EXPECT_FALSE(interfaces.empty()) << "no TCP in a capture that should be a lossless TCP run";
  for (const auto& name : interfaces) {
    const auto one = tshark_one_interface(file, name);
    const auto flags = tshark(one, "-Y 'tcp.analysis.flags && !tcp.analysis.window_update'");
    EXPECT_EQ(flags.exit_code, 0);
    EXPECT_EQ(flags.out, "") << name;
  }
}

}  // namespace calisim::test
