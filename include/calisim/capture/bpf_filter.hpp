#pragma once
// A tcpdump filter expression ("proto 4", "udp port 4789", "tcp[tcpflags] & tcp-syn != 0")
// compiled by libpcap and run on frames in memory, so a filtered capture keeps exactly the
// packets tcpdump would keep. The expression is compiled against a dead handle of the frame's
// link type: never a live one, whose Linux-only BPF extensions reject everything offline
// (pcap_compile(3PCAP)).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <calisim/capture/link_type.hpp>
#include <calisim/sim/result.hpp>
#include <calisim/wire/bytes.hpp>

namespace calisim::capture {

class BpfFilter {
 public:
  // Compiles `expression` for frames of `link` (optimised, netmask unknown, so "ip broadcast"
  // does not compile). An empty expression matches every frame. Errors (Errc::kInvalidArgument)
  // quote the expression and libpcap's reason.
  [[nodiscard]] static Result<BpfFilter> compile(std::string_view expression, LinkType link);

  BpfFilter(BpfFilter&&) noexcept;
  BpfFilter& operator=(BpfFilter&&) noexcept;
  BpfFilter(const BpfFilter&) = delete;
  BpfFilter& operator=(const BpfFilter&) = delete;
  ~BpfFilter();

  // Runs the program on `frame` as captured. original_length is the frame's length on the wire
  // (what "len" and "greater"/"less" test), which may exceed frame.size() after a snaplen cut.
  // Reads only the program, so one filter may be shared by threads.
  bool matches(wire::Bytes frame, std::uint32_t original_length) const;
  bool matches(wire::Bytes frame) const {
    return matches(frame, static_cast<std::uint32_t>(frame.size()));
  }

  const std::string& expression() const;
  LinkType link_type() const;

 private:
  struct Impl;  // the bpf_program: pcap.h stays out of public headers
  explicit BpfFilter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace calisim::capture
