#pragma once
// `birdcl` in the calico-node container: the BIRD 1.6 fork's light client, asking the node's
// BIRD over /var/run/calico/bird.ctl. Parsed as BIRD's client and grammar take it (client/
// commands.c cmd_expand: a word may be any unique prefix of a keyword; nest/config.Y r_args: the
// options of `show route` in any order) and answered from the node's Speaker in the fork's
// layout (bgp/bird_views.hpp BirdLayout::kBird16).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <calisim/sim/result.hpp>
#include <calisim/sim/time.hpp>
#include <calisim/wire/address.hpp>

namespace calisim::bgp {
class Speaker;
}

namespace calisim::calico {

struct BirdclCommand {
  enum class What : std::uint8_t { kProtocols, kRoute };
  What what = What::kProtocols;
  bool all = false;
  std::optional<std::string> protocol_name;      // show protocols NAME / show route protocol NAME
  std::optional<std::string> export_name;        // show route export NAME
  std::optional<wire::Ipv4Prefix> prefix;        // show route PREFIX
  std::optional<wire::Ipv4Address> for_address;  // show route for ADDRESS
  bool primary = false;                          // show route primary
};

// `words` is the whole command line split into words, words[0] being "birdcl" or "birdc".
Result<BirdclCommand> parse_birdcl(const std::vector<std::string>& words);

// What birdcl prints for the command on a node whose BIRD is `speaker` (nullptr: BIRD is not
// running there, and birdcl cannot reach its socket).
std::string run_birdcl(const bgp::Speaker* speaker, Time now, const BirdclCommand& command);

}  // namespace calisim::calico
