// Our speaker in Calico's own shape against BIRD 2 over loopback: iBGP in one AS (64512), with
// the options of Calico's bird.cfg template (calico.md §4.2: `gateway recursive; add paths on;
// graceful restart; connect delay time 2; connect retry time 5; error wait time 5,30;`, the last
// three shortened here so that a test takes seconds), and BIRD as the route reflector of a
// Calico cluster that uses one (`rr client` for each node; calico.md §4.4). Two of our speakers,
// 127.0.0.2 and 127.0.0.3, are its clients: a route one of them originates reaches the other
// through BIRD with the attributes RFC 4456 §8 and BIRD's bgp_update_attrs give a reflected
// route (ORIGINATOR_ID, CLUSTER_LIST, LOCAL_PREF 100, next hop unchanged, empty AS path).
//
// `add paths on` makes BIRD offer ADD-PATH (capability 69); we do not (session.hpp says why),
// so the session runs without path identifiers, as BIRD does with any peer that does not offer it.
// A missing BIRD is a failure, not a skip (scripts/install-deps.sh installs bird2).

#include <calisim/bgp/posix_io.hpp>
#include <calisim/bgp/speaker.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <unistd.h>

#include "bgp/interop_daemon.hpp"
#include "bgp/interop_speaker.hpp"
#include "test_util.hpp"

namespace calisim::bgp {
namespace {

using wire::Ipv4Address;
using wire::Ipv4Prefix;

constexpr std::uint32_t kAs = 64512;
const Ipv4Address kReflectorAddress{127, 0, 0, 1};
const Ipv4Address kReflectorId{10, 255, 0, 1};
const Ipv4Address kNodeA{127, 0, 0, 2};
const Ipv4Address kNodeAId{10, 255, 0, 2};
const Ipv4Address kNodeB{127, 0, 0, 3};
const Ipv4Address kNodeBId{10, 255, 0, 3};
const Ipv4Prefix kReflectorRoute = *Ipv4Prefix::parse("10.20.0.0/24");
const Ipv4Prefix kBlockOfA = *Ipv4Prefix::parse("10.244.1.0/26");
const Ipv4Address kReflectorNextHop{192, 0, 2, 1};
const Ipv4Address kNextHopOfA{192, 0, 2, 2};
const Ipv4Address kNextHopOfB{192, 0, 2, 3};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class BgpInteropBirdReflector : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string bird =
        test::find_tool({"/usr/sbin/bird", "/usr/bin/bird", "/usr/local/sbin/bird"});
    birdc_ = test::find_tool({"/usr/sbin/birdc", "/usr/bin/birdc", "/usr/local/sbin/birdc"});
    ASSERT_FALSE(bird.empty() || birdc_.empty())
        << "BIRD 2 (bird, birdc) is not installed: apt-get install bird2 (scripts/install-deps.sh)";
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const auto dir = test::work_dir(fmt::format("interop_bird_rr_{}", info->name()));
    ctl_ = (dir / "bird.ctl").string();
    if (ctl_.size() >= 100)
      ctl_ = fmt::format("/tmp/calisim-bird-rr-{}.ctl", ::getpid());  // sun_path
    bird_port_ = test::free_port(kReflectorAddress);
    port_a_ = test::free_port(kNodeA);
    port_b_ = test::free_port(kNodeB);
    ASSERT_NE(bird_port_, 0);
    ASSERT_NE(port_a_, 0);
    ASSERT_NE(port_b_, 0);
    // Calico's template in BIRD 2's syntax (channel options inside `ipv4 { }`). The export
    // filter passes the reflector's own route with a TEST-NET next hop and every BGP route
    // (reflection); BIRD's bgp_preexport decides what may go back to whom.
    const std::string conf = fmt::format(
        R"(log stderr all;
router id {rid};
protocol device {{}}
protocol static static1 {{ ipv4; route {route} blackhole; }}
template bgp calico_node {{
  local {local} port {port} as {as};
  multihop;
  graceful restart;
  hold time 9;
  connect delay time 1;
  connect retry time 2;
  error wait time 1, 2;
  rr client;
  ipv4 {{
    gateway recursive;
    add paths on;
    import all;
    export filter {{
      if proto = "static1" then {{ bgp_next_hop = {nh}; accept; }}
      if source = RTS_BGP then accept;
      reject;
    }};
  }};
}}
protocol bgp Node_a from calico_node {{ neighbor {a} port {pa} as {as}; }}
protocol bgp Node_b from calico_node {{ neighbor {b} port {pb} as {as}; }}
)",
        fmt::arg("rid", kReflectorId.to_string()), fmt::arg("route", kReflectorRoute.to_string()),
        fmt::arg("local", kReflectorAddress.to_string()), fmt::arg("port", bird_port_),
        fmt::arg("as", kAs), fmt::arg("nh", kReflectorNextHop.to_string()),
        fmt::arg("a", kNodeA.to_string()), fmt::arg("pa", port_a_),
        fmt::arg("b", kNodeB.to_string()), fmt::arg("pb", port_b_));
    std::ofstream(dir / "bird.conf") << conf;
    bird_ = std::make_unique<test::ChildDaemon>(dir, "bird");
    std::string error;
    ASSERT_TRUE(bird_->start({bird, "-f", "-c", (dir / "bird.conf").string(), "-s", ctl_, "-P",
                              (dir / "bird.pid").string()},
                             error))
        << error;
    for (int i = 0; i < 300 && !std::filesystem::exists(ctl_); ++i) ::usleep(10'000);
    ASSERT_TRUE(std::filesystem::exists(ctl_)) << "bird did not start:\n"
                                               << test::read_text(bird_->log_path());

    ASSERT_NO_FATAL_FAILURE(open(a_, kNodeA, kNodeAId, port_a_, kNextHopOfA));
    ASSERT_NO_FATAL_FAILURE(open(b_, kNodeB, kNodeBId, port_b_, kNextHopOfB));
    a_.speaker->rib().originate(kBlockOfA);
    a_.speaker->start(a_.io->now());
    b_.speaker->start(b_.io->now());
  }

  void TearDown() override {
    if (!ctl_.starts_with("/tmp/")) return;
    std::error_code ec;
    std::filesystem::remove(ctl_, ec);
  }

  void open(test::InteropSpeaker& s, Ipv4Address address, Ipv4Address id, std::uint16_t port,
            Ipv4Address next_hop) {
    test::InteropPeer p;
    p.local_address = address;
    p.listen_port = port;
    p.local_as = kAs;
    p.peer_as = kAs;
    p.router_id = id;
    p.peer_address = kReflectorAddress;
    p.peer_port = bird_port_;
    p.export_next_hop = next_hop;
    auto opened = s.open(p);
    ASSERT_TRUE(opened) << opened.error().message;
  }

  // Turns both speakers' loops until `done` holds (each io runs only inside its own calls).
  bool run_until(const std::function<bool()>& done, Duration timeout) {
    for (Duration spent = Duration::zero(); spent < timeout; spent += Duration::milliseconds(100)) {
      if (!a_.io->run_for(Duration::milliseconds(50)) ||
          !b_.io->run_for(Duration::milliseconds(50))) {
        return false;
      }
      if (done()) return true;
    }
    return false;
  }

  std::string birdc(const std::string& command) const {
    return test::run_command(birdc_ + " -s " + test::shell_quote(ctl_) + " " + command + " 2>&1")
        .out;
  }

  void come_up() {
    const bool up = run_until(
        [&] {
          return a_.established() && b_.established() &&
                 contains(birdc("show protocols Node_a"), "Established") &&
                 contains(birdc("show protocols Node_b"), "Established");
        },
        Duration::seconds(20));
    ASSERT_TRUE(up) << "a: " << a_.status().info << "\nb: " << b_.status().info << "\n"
                    << birdc("show protocols");
  }

  std::string birdc_;
  std::string ctl_;
  std::uint16_t bird_port_ = 0;
  std::uint16_t port_a_ = 0;
  std::uint16_t port_b_ = 0;
  std::unique_ptr<test::ChildDaemon> bird_;  // declared first: killed after our speakers are gone
  test::InteropSpeaker a_;
  test::InteropSpeaker b_;
};

TEST_F(BgpInteropBirdReflector, IbgpSessionsWithCalicosOptions) {
  ASSERT_NO_FATAL_FAILURE(come_up());
  const std::string all = birdc("show protocols all Node_a");
  // BIRD sees an internal multihop session to a route-reflector client, 4-octet AS on both ends.
  EXPECT_TRUE(contains(all, "Session:          internal multihop route-reflector AS4")) << all;
  EXPECT_TRUE(contains(all, "BGP state:          Established")) << all;
  EXPECT_TRUE(contains(all, "Neighbor AS:      64512")) << all;
  // What we offered, as BIRD read it: graceful restart with IPv4 unicast (Calico's
  // `graceful restart;`), and no ADD-PATH: BIRD offered it, but it takes both ends.
  const auto neighbor_caps = all.find("Neighbor capabilities");
  ASSERT_NE(neighbor_caps, std::string::npos) << all;
  const std::string theirs = all.substr(neighbor_caps, all.find("Session:") - neighbor_caps);
  EXPECT_TRUE(contains(theirs, "Graceful restart")) << theirs;
  EXPECT_FALSE(contains(theirs, "ADD-PATH")) << theirs;
  const std::string local_caps = all.substr(0, neighbor_caps);
  EXPECT_TRUE(contains(local_caps, "ADD-PATH")) << local_caps;  // BIRD's `add paths on`
  // Our side: the hold time both configured, graceful restart from BIRD's OPEN.
  EXPECT_EQ(a_.status().hold_time_s, 9);
  EXPECT_EQ(a_.status().neighbor_id, kReflectorId);
  std::cerr << "birdc show protocols all Node_a:\n" << all;
}

TEST_F(BgpInteropBirdReflector, ReflectedRoutesCarryOriginatorAndClusterList) {
  ASSERT_NO_FATAL_FAILURE(come_up());
  const bool routes = run_until(
      [&] {
        return b_.speaker->rib().best(kBlockOfA).has_value() &&
               a_.speaker->rib().best(kReflectorRoute).has_value() &&
               b_.speaker->rib().best(kReflectorRoute).has_value();
      },
      Duration::seconds(10));
  ASSERT_TRUE(routes) << birdc("show route all");

  // A's block at B, reflected by BIRD (RFC 4456 §8): ORIGINATOR_ID is A's router id, the
  // CLUSTER_LIST holds BIRD's cluster id (its router id when unset), LOCAL_PREF 100 as A set it
  // for iBGP, the next hop and the empty AS path as A sent them.
  const auto reflected = b_.speaker->rib().best(kBlockOfA);
  ASSERT_TRUE(reflected.has_value());
  ASSERT_NE(reflected->attributes, nullptr);
  const auto& ra = *reflected->attributes;
  EXPECT_EQ(ra.originator_id, std::optional<Ipv4Address>(kNodeAId));
  EXPECT_EQ(ra.cluster_list, std::vector<Ipv4Address>{kReflectorId});
  EXPECT_EQ(ra.local_pref, std::optional<std::uint32_t>(100));
  EXPECT_EQ(ra.next_hop, kNextHopOfA);
  ASSERT_TRUE(ra.as_path.has_value());
  EXPECT_EQ(ra.as_path->to_string(), "");
  EXPECT_EQ(ra.origin, wire::bgp::Origin::kIgp);

  // BIRD's own route at both clients: LOCAL_PREF 100 (iBGP default), no ORIGINATOR_ID (BIRD is
  // its origin), the next hop its filter set.
  for (auto* s : {&a_, &b_}) {
    const auto r = s->speaker->rib().best(kReflectorRoute);
    ASSERT_TRUE(r.has_value());
    ASSERT_NE(r->attributes, nullptr);
    EXPECT_EQ(r->attributes->local_pref, std::optional<std::uint32_t>(100));
    EXPECT_EQ(r->attributes->originator_id, std::nullopt);
    EXPECT_TRUE(r->attributes->cluster_list.empty());
    EXPECT_EQ(r->attributes->next_hop, kReflectorNextHop);
  }

  // BIRD's view of A's block: from A, LOCAL_PREF 100, next hop as A sent it.
  const std::string at_bird = birdc("show route all " + kBlockOfA.to_string());
  EXPECT_TRUE(contains(at_bird, "[Node_a ")) << at_bird;
  EXPECT_TRUE(contains(at_bird, "BGP.local_pref: 100")) << at_bird;
  EXPECT_TRUE(contains(at_bird, "BGP.next_hop: 192.0.2.2")) << at_bird;
  EXPECT_TRUE(contains(at_bird, "BGP.as_path: \n")) << at_bird;
  // A does not get its own block back: BIRD's bgp_preexport does not send a route to the peer it
  // came from, and A would drop it as an ORIGINATOR_ID loop anyway.
  EXPECT_EQ(a_.speaker->status(0).routes_imported, 1u);
  EXPECT_EQ(b_.speaker->status(0).routes_imported, 2u);
  std::cerr << "birdc show route all " << kBlockOfA.to_string() << ":\n" << at_bird;

  // A withdraws its block: it leaves B through the reflector.
  a_.speaker->rib().withdraw_local(kBlockOfA);
  a_.speaker->routes_changed(a_.io->now());
  const bool gone = run_until([&] { return !b_.speaker->rib().best(kBlockOfA).has_value(); },
                              Duration::seconds(10));
  EXPECT_TRUE(gone) << birdc("show route all");
}

}  // namespace
}  // namespace calisim::bgp
