// events.jsonl records every BGP state change of every node's peers ("bgp-state"), in the
// words of the speaker's state log: BIRD's `debug { states }` lines for the protocol and
// calisim's lines for each connection (bgp::state_log_lines).
//
// examples/lab-link-down.yaml: user-worker (203.248.23.215) connects to user-controller
// (203.248.23.214), whose mesh peer towards the worker is passive (confd: the peer's address is
// the greater string); the controller's cable is out from 20 s to 320 s.

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "calico/example_cluster.hpp"
#include "test_util.hpp"

namespace calisim::calico {
namespace {

// The event lines of one node's "bgp-state" events, without their time.
std::vector<std::string> state_events(const std::filesystem::path& file, const std::string& node,
                                      double until_s) {
  std::ifstream in(file);
  EXPECT_TRUE(in.good()) << file;
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"type\":\"bgp-state\",\"node\":\"" + node + "\"") == std::string::npos) {
      continue;
    }
    const double t = std::stod(line.substr(5));
    if (t > until_s) continue;
    out.push_back(line.substr(line.find(",\"type\"") + 1));
  }
  return out;
}

TEST(BgpStateEvents, EveryTransitionOfTheMeshBringUpAndTheHoldExpiryIsRecorded) {
  const auto dir = test::work_dir("bgp-state-events-" + std::to_string(::getpid()));
  {
    auto c = test::example_cluster("lab-link-down.yaml", dir);
    ASSERT_NE(c, nullptr);
    c->run();
    ASSERT_TRUE(c->finish().has_value());
  }
  const std::string w =
      R"j("type":"bgp-state","node":"user-worker","peer":"Mesh_203_248_23_214",)j";
  const std::string c =
      R"j("type":"bgp-state","node":"user-controller","peer":"Mesh_203_248_23_215",)j";
  // clang-format off
  EXPECT_EQ(state_events(dir / "events.jsonl", "user-worker", 200.0),
            (std::vector<std::string>{
                w + R"j("event":"protocol","detail":"State changed to start"})j",
                w + R"j("event":"outgoing","detail":"Outgoing connection changed state from Idle to Active (connect delay)"})j",
                w + R"j("event":"outgoing","detail":"Outgoing connection changed state from Active to Connect (connecting)"})j",
                w + R"j("event":"outgoing","detail":"Outgoing connection changed state from Connect to OpenSent (OPEN sent)"})j",
                w + R"j("event":"outgoing","detail":"Outgoing connection changed state from OpenSent to OpenConfirm (OPEN received)"})j",
                w + R"j("event":"outgoing","detail":"Outgoing connection changed state from OpenConfirm to Established (KEEPALIVE received)"})j",
                w + R"j("event":"protocol","detail":"State changed to up"})j",
                w + R"j("event":"outgoing","detail":"Outgoing connection changed state from Established to Close (NOTIFICATION)"})j",
                w + R"j("event":"protocol","detail":"State changed to stop"})j",
                w + R"j("event":"outgoing","detail":"Outgoing connection changed state from Close to Idle (BGP Error: Hold timer expired)"})j",
                w + R"j("event":"protocol","detail":"State changed to flush"})j",
                w + R"j("event":"protocol","detail":"State changed to down"})j",
                w + R"j("event":"protocol","detail":"State changed to start"})j",
            }));
  EXPECT_EQ(state_events(dir / "events.jsonl", "user-controller", 10.0),
            (std::vector<std::string>{
                c + R"j("event":"protocol","detail":"State changed to start"})j",
                c + R"j("event":"incoming","detail":"Incoming connection changed state from Idle to OpenSent (OPEN sent)"})j",
                c + R"j("event":"incoming","detail":"Incoming connection changed state from OpenSent to OpenConfirm (OPEN received)"})j",
                c + R"j("event":"incoming","detail":"Incoming connection changed state from OpenConfirm to Established (KEEPALIVE received)"})j",
                c + R"j("event":"protocol","detail":"State changed to up"})j",
            }));
  // clang-format on
}

}  // namespace
}  // namespace calisim::calico
