#pragma once
// The main job until the cluster model exists (issue #2): a constructed demonstration of how
// Calico's IPIP and VXLAN modes carry a pod-to-pod ICMP echo between the lab's two nodes,
// written through the capture layer. It routes nothing: the host stack comes in a later issue.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <calisim/sim/result.hpp>

namespace calisim::cli {

enum class DemoEncapsulation { kIpip, kVxlan };

struct DemoOptions {
  std::filesystem::path out_root = "calisim-out";
  std::uint64_t seed = 1;
  int echoes = 5;
};

struct DemoResult {
  std::string name;                  // "lab-ipip" or "lab-vxlan"
  std::filesystem::path capture;     // <out_root>/<name>/capture.pcapng
  std::size_t packets_written = 0;
  std::vector<std::string> lines;    // one per echo exchange, for the terminal
};

[[nodiscard]] Result<DemoResult> run_encapsulation_demo(DemoEncapsulation mode,
                                                        const DemoOptions& options);

}  // namespace calisim::cli
