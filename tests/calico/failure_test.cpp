// A node's cable pulled and plugged back, through the whole cluster (issue #5): BIRD's words in
// `calicoctl node status` once the hold time has passed, the controller's block withdrawn from
// the worker and back after recovery, what a pod's ping prints on the way, and events.jsonl.
//
// examples/lab-link-down.yaml: the lab with user-controller's enp0s8 unplugged from 20 s to
// 320 s; hello (on the worker) pings hi (on the controller) at 10 s, 30 s, 100 s, 300 s and
// 380 s.

#include <calisim/calico/cluster.hpp>
#include <calisim/calico/scenario.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "calico/example_cluster.hpp"
#include "test_util.hpp"

namespace calisim::calico {
namespace {

using test::at;

std::unique_ptr<Cluster> lab_link_down(const std::filesystem::path& dir = {}) {
  return test::example_cluster("lab-link-down.yaml", dir);
}

std::string node_status(std::string_view rows, bool wide) {
  // clang-format off
  const std::string border =
      wide ? "+----------------+-------------------+-------+----------+--------------------------------+\n"
           : "+----------------+-------------------+-------+----------+-------------+\n";
  const std::string header =
      wide ? "|  PEER ADDRESS  |     PEER TYPE     | STATE |  SINCE   |              INFO              |\n"
           : "|  PEER ADDRESS  |     PEER TYPE     | STATE |  SINCE   |    INFO     |\n";
  return "Calico process is running.\n\nIPv4 BGP status\n" + border + header + border +
         std::string(rows) + border + "\nIPv6 BGP status\nNo IPv6 peers found.\n\n";
  // clang-format on
}

// BIRD's hold time under Calico: bird.cfg.template's `template bgp bgp_template` sets no `hold
// time`, so BIRD's default of 240 s applies (keepalive 80 s = hold/3; projectcalico/bird
// proto/bgp/config.Y), and BIRD starts the hold timer with RFC 4271 §10 jitter (75-100 %). The
// last message the worker heard from the controller came at 1.8 s (the end of the initial feed);
// its hold timer ran out at 197.5 s (00:03:17), long after the cable went at 20 s.
TEST(FailureLinkDown, NodeStatusShowsBirdsWordsAfterTheHoldTimeAndEstablishedAfterRecovery) {
  auto c = lab_link_down();
  ASSERT_NE(c, nullptr);
  c->run_until(at(15));
  EXPECT_EQ(c->calicoctl_node_status("user-worker"),
            node_status("| 203.248.23.214 | node-to-node mesh | up    | 00:00:01 | Established |\n",
                        false));
  // Ten seconds into the outage nothing has noticed: no keepalive was due yet.
  c->run_until(at(30));
  EXPECT_EQ(c->calicoctl_node_status("user-worker"),
            node_status("| 203.248.23.214 | node-to-node mesh | up    | 00:00:01 | Established |\n",
                        false));
  // After the hold time. The worker (the lower address as a string is not passive: it
  // connects) sent its NOTIFICATION "Hold timer expired" into the void (bgp_hold_timeout:
  // class BE_BGP_TX, "BGP Error: "), went Idle, waited `error wait time`, and has been trying
  // to connect since: its SYNs need ARP for 203.248.23.214, which fails after three requests,
  // and the kernel's Host Unreachable to itself (arp_error_report) fails the connect with
  // EHOSTUNREACH — a socket error that replaces the hold-timer one while the protocol is in
  // PS_START (bgp_store_error). BIRD alternates Active (connect delay) and Connect (SYN out);
  // at 300 s it is in Active. calicoctl joins BIRD's info words with single spaces and its
  // table wraps the cell at 30 characters. Real clusters with unreachable peers show exactly
  // these rows: "Active Socket: Host is / unreachable" (calico#2255) and, mixed with it,
  // "Connect Socket: Host is / unreachable" (kops#5958).
  c->run_until(at(300));
  // clang-format off
  EXPECT_EQ(c->calicoctl_node_status("user-worker"),
            node_status("| 203.248.23.214 | node-to-node mesh | start | 00:03:17 | Active Socket: Host is         |\n"
                        "|                |                   |       |          | unreachable                    |\n",
                        true));
  // clang-format on
  // The controller is the passive side (`passive on`: the worker's address is greater as a
  // string). Its hold timer ran out too; Idle with `passive` shows as "Passive" (bgp_state_dsc),
  // and no socket error comes to replace the hold-timer one.
  // clang-format off
  EXPECT_EQ(c->calicoctl_node_status("user-controller"),
            node_status("| 203.248.23.215 | node-to-node mesh | start | 00:03:17 | Passive BGP Error: Hold timer  |\n"
                        "|                |                   |       |          | expired                        |\n",
                        true));
  // clang-format on
  // The cable back at 320 s: the worker's next connect gets through, and both sides are
  // Established again from 322 s.
  c->run_until(at(399));
  EXPECT_EQ(c->calicoctl_node_status("user-worker"),
            node_status("| 203.248.23.214 | node-to-node mesh | up    | 00:05:22 | Established |\n",
                        false));
  EXPECT_EQ(c->calicoctl_node_status("user-controller"),
            node_status("| 203.248.23.215 | node-to-node mesh | up    | 00:05:22 | Established |\n",
                        false));
  EXPECT_EQ(c->bgp_state("user-worker", "Mesh_203_248_23_214"), "Established");
}

TEST(FailureLinkDown, TheControllersBlockIsWithdrawnAfterTheHoldTimeAndReturns) {
  auto c = lab_link_down();
  ASSERT_NE(c, nullptr);
  const std::string head =
      "default via 10.0.2.2 dev enp0s3 proto dhcp metric 100 \n"
      "10.0.2.0/24 dev enp0s3 proto kernel scope link src 10.0.2.15 \n";
  const std::string block = "192.168.136.0/26 via 203.248.23.214 dev tunl0 proto bird onlink \n";
  const std::string tail =
      "blackhole 192.168.153.192/26 proto bird \n"
      "192.168.153.193 dev cali21c68c06609 scope link \n"
      "203.248.23.128/25 dev enp0s8 proto kernel scope link src 203.248.23.215 \n";
  c->run_until(at(15));
  EXPECT_EQ(c->view("ip route", "user-worker"), head + block + tail);
  // While the session stands the route stays, although its next hop is gone.
  c->run_until(at(150));
  EXPECT_EQ(c->view("ip route", "user-worker"), head + block + tail);
  // The session went down at 197.5 s: BIRD withdrew what it had learned from the peer and
  // deleted its kernel route.
  c->run_until(at(300));
  EXPECT_EQ(c->view("ip route", "user-worker"), head + tail);
  // The controller keeps its own routes; its host-only network has no carrier, which iproute2
  // shows as `linkdown` (RTNH_F_LINKDOWN on the nexthop), and the worker's block is gone.
  EXPECT_EQ(c->view("ip route", "user-controller"),
            "default via 10.0.2.2 dev enp0s3 proto dhcp metric 100 \n"
            "10.0.2.0/24 dev enp0s3 proto kernel scope link src 10.0.2.15 \n"
            "blackhole 192.168.136.0/26 proto bird \n"
            "192.168.136.1 dev calibc6c3028870 scope link \n"
            "192.168.136.2 dev calid6edae09645 scope link \n"
            "192.168.136.3 dev calic6bfd11bfbe scope link \n"
            "192.168.136.5 dev cali77d085837b5 scope link \n"
            "203.248.23.128/25 dev enp0s8 proto kernel scope link src 203.248.23.214 linkdown \n");
  c->run_until(at(399));
  EXPECT_EQ(c->view("ip route", "user-worker"), head + block + tail);
  EXPECT_NE(c->view("ip route", "user-controller")
                .find("192.168.153.192/26 via 203.248.23.215 dev tunl0 proto bird onlink \n"),
            std::string::npos)
      << c->view("ip route", "user-controller");
}

// What hello's `ping -c 5 192.168.136.5` prints, from the kernel's point of view:
//
// 10 s, before the fault: two forwarding hosts, ttl=62.
//
// 30 s and 100 s, cable out but the session up: the worker still routes 192.168.136.0/26 via
// 203.248.23.214 dev tunl0 onlink, so each echo request is wrapped in IPIP for 203.248.23.214.
// At 30 s the worker's neighbour entry for the controller is still REACHABLE (then DELAY,
// PROBE): those states send without waiting, to the old MAC, and the frames are lost at the
// unplugged port. By 100 s the entry has FAILED: the packets queue on a new INCOMPLETE entry,
// three ARP requests go unanswered, and the kernel sends Host Unreachable (arp_error_report →
// dst_link_failure) about each queued *outer* packet, whose source is the worker itself. That
// error reaches ipip_err, which ignores it for tunl0 (a tunnel without a remote address:
// -ENOENT, nothing is counted or relayed to the inner sender). Either way the pod hears
// nothing: 100 % loss, no error lines; ping waits its 10 s linger after the fifth request, which
// its "time" leaves out (it runs to the last request: time 4000ms).
//
// 300 s, after the hold time: the /26 is withdrawn, so the worker forwards the pod's packet by
// its default route, via 10.0.2.2 on enp0s3. Nothing answers ARP for that gateway (the
// scenario's NAT gateway is not a machine), so after three requests the entry fails and every
// queued packet gets Host Unreachable, now about the pod's own packet and so sent to the pod.
// Its source is chosen by the route back to the pod (`192.168.153.193 dev caliX scope link`):
// the cali device has no address, so inet_select_addr takes the first global address in
// device order, enp0s3's 10.0.2.15. Requests 1-3 fail together 3 s in; request 4 restarts
// resolution on the FAILED entry and 4-5 fail 3 s later, when ping has its five answers
// (`+5 errors`) and stops.
//
// 380 s, after recovery: ttl=62 again.
TEST(FailureLinkDown, PingsFailWithWhatLinuxPrintsAndSucceedAfterRecovery) {
  auto c = lab_link_down();
  ASSERT_NE(c, nullptr);
  c->run();
  ASSERT_EQ(c->pings().size(), 5u);
  const std::string head = "PING 192.168.136.5 (192.168.136.5) 56(84) bytes of data.";
  const std::vector<std::string> ok = {
      head,
      "64 bytes from 192.168.136.5: icmp_seq=1 ttl=62 time=0.102 ms",
      "64 bytes from 192.168.136.5: icmp_seq=2 ttl=62 time=0.102 ms",
      "64 bytes from 192.168.136.5: icmp_seq=3 ttl=62 time=0.102 ms",
      "64 bytes from 192.168.136.5: icmp_seq=4 ttl=62 time=0.102 ms",
      "64 bytes from 192.168.136.5: icmp_seq=5 ttl=62 time=0.102 ms",
      "",
      "--- 192.168.136.5 ping statistics ---",
      "5 packets transmitted, 5 received, 0% packet loss, time 4000ms",
      "rtt min/avg/max/mdev = 0.102/0.102/0.102/0.000 ms",
  };
  for (std::size_t i : {0u, 4u}) {
    const auto& p = c->pings()[i];
    EXPECT_EQ(p.from, "default/hello-776c774f98-894tt");
    EXPECT_EQ(p.command, "ping -c 5 192.168.136.5");
    EXPECT_EQ(p.lines, ok) << i;
    EXPECT_EQ(p.received, 5u);
    EXPECT_EQ(p.ttls, (std::vector<std::uint8_t>{62, 62, 62, 62, 62}));
  }
  const std::vector<std::string> silent = {
      head,
      "",
      "--- 192.168.136.5 ping statistics ---",
      "5 packets transmitted, 0 received, 100% packet loss, time 4000ms",
      "pipe 5",
  };
  for (std::size_t i : {1u, 2u}) {
    EXPECT_EQ(c->pings()[i].lines, silent) << i;
    EXPECT_EQ(c->pings()[i].received, 0u);
  }
  EXPECT_EQ(c->pings()[3].lines,
            (std::vector<std::string>{
                head,
                "From 10.0.2.15 icmp_seq=1 Destination Host Unreachable",
                "From 10.0.2.15 icmp_seq=2 Destination Host Unreachable",
                "From 10.0.2.15 icmp_seq=3 Destination Host Unreachable",
                "From 10.0.2.15 icmp_seq=4 Destination Host Unreachable",
                "From 10.0.2.15 icmp_seq=5 Destination Host Unreachable",
                "",
                "--- 192.168.136.5 ping statistics ---",
                "5 packets transmitted, 0 received, +5 errors, 100% packet loss, time 4000ms",
                "pipe 4",
            }));
  EXPECT_EQ(c->pings()[3].received, 0u);
}

// events.jsonl: the fault and its repair, and each side's BGP session going down with BIRD's
// reason and coming back.
TEST(FailureLinkDown, EventsRecordTheFaultAndTheBgpStateChanges) {
  const auto dir = test::work_dir("failure-link-down-" + std::to_string(::getpid()));
  {
    auto c = lab_link_down(dir);
    ASSERT_NE(c, nullptr);
    c->run();
    ASSERT_TRUE(c->finish().has_value());
  }
  std::ifstream in(dir / "events.jsonl");
  ASSERT_TRUE(in.good());
  std::vector<std::string> events;
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"type\":\"fault\"") != std::string::npos ||
        line.find("\"type\":\"bgp\"") != std::string::npos) {
      events.push_back(line);
    }
  }
  // clang-format off
  EXPECT_EQ(events,
            (std::vector<std::string>{
                R"({"t":1.791909216,"type":"bgp","node":"user-worker","peer":"Mesh_203_248_23_214","event":"established","detail":""})",
                R"({"t":1.791959216,"type":"bgp","node":"user-controller","peer":"Mesh_203_248_23_215","event":"established","detail":""})",
                R"({"t":20.000000000,"type":"fault","what":"link-down user-controller/enp0s8"})",
                R"({"t":197.471810040,"type":"bgp","node":"user-worker","peer":"Mesh_203_248_23_214","event":"down","detail":"BGP Error: Hold timer expired"})",
                R"({"t":197.896313040,"type":"bgp","node":"user-controller","peer":"Mesh_203_248_23_215","event":"down","detail":"BGP Error: Hold timer expired"})",
                R"({"t":320.000000000,"type":"fault","what":"link-up user-controller/enp0s8"})",
                R"({"t":322.321158272,"type":"bgp","node":"user-worker","peer":"Mesh_203_248_23_214","event":"established","detail":""})",
                R"({"t":322.321208272,"type":"bgp","node":"user-controller","peer":"Mesh_203_248_23_215","event":"established","detail":""})",
            }));
  // clang-format on
}

}  // namespace
}  // namespace calisim::calico
