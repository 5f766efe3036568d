// Calico IPAM: block choice against real clusters, address order, block cap, strict affinity,
// borrowing, releases, errors.

#include <calisim/calico/ipam.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace calisim::calico {
namespace {

using wire::Ipv4Address;
using wire::Ipv4Prefix;

Ipv4Prefix prefix(std::string_view text) {
  return *Ipv4Prefix::parse(text);
}
Ipv4Address addr(std::string_view text) {
  return *Ipv4Address::parse(text);
}

IpPool pool(std::string_view cidr, int block_size, std::string name = "default-ipv4-ippool") {
  IpPool p;
  p.name = std::move(name);
  p.cidr = prefix(cidr);
  p.block_size = block_size;
  return p;
}

Ipam ipam_with(IpPool p, IpamConfig config = {}) {
  Ipam ipam;
  EXPECT_TRUE(ipam.set_config(config).has_value());
  EXPECT_TRUE(ipam.add_pool(std::move(p)).has_value());
  return ipam;
}

Ipv4Address assign_pod(Ipam& ipam, std::string_view node, std::string_view ns,
                       std::string_view pod) {
  auto r = ipam.auto_assign(pod_assign_args(node, ns, pod, pod));
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? r->address : Ipv4Address();
}

// ---------------------------------------------------------------------------------------------
// Block choice against clusters that Calico itself laid out.

// An Isovalent lab ("Migrating from Calico to Cilium", kind v1.29.2, podSubnet 192.168.0.0/16,
// Calico's default /26 blocks) printed its IPAMBlocks with their affinities:
//   192.168.110.128/26 host:kind-worker2   192.168.162.128/26 host:kind-worker
//   192.168.195.192/26 host:kind-worker3   192.168.218.192/26 host:kind-worker4
//   192.168.82.0/26    host:kind-control-plane
// Calico's own node/pkg/status/populators/route_test.go has the same kind layout in a BIRD route
// dump (192.168.162.128/26 blackhole with 192.168.162.128/32 on tunl0, 192.168.82.0/26 and
// 192.168.110.128/26 via mesh peers).
TEST(IpamBlockChoice, KindClusterBlocksMatchRealCalico) {
  Ipam ipam = ipam_with(IpPool{});
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"kind-control-plane", "192.168.82.0/26"},
      {"kind-worker", "192.168.162.128/26"},
      {"kind-worker2", "192.168.110.128/26"},
      {"kind-worker3", "192.168.195.192/26"},
      {"kind-worker4", "192.168.218.192/26"}};
  for (const auto& [node, block] : expected) {
    auto r = ipam.auto_assign(tunnel_assign_args(TunnelType::kIpip, node));
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->block, prefix(block)) << node;
    EXPECT_EQ(r->address, prefix(block).network()) << node;  // the tunnel takes ordinal 0
    EXPECT_TRUE(r->claimed_block);
    EXPECT_FALSE(r->borrowed);
  }
  // The datastore lists blocks by name: the lab's listing order.
  std::vector<std::string> names;
  for (const IpamBlock& b : ipam.blocks()) names.push_back(b.cidr().to_string());
  EXPECT_EQ(names, (std::vector<std::string>{"192.168.110.128/26", "192.168.162.128/26",
                                             "192.168.195.192/26", "192.168.218.192/26",
                                             "192.168.82.0/26"}));
}

// A two-node minikube cluster (pool 10.244.0.0/16, IPIP): `ip route` on node minikube showed
// "blackhole 10.244.120.64/26 proto bird", pods .65-.68, and
// "10.244.205.192/26 via 192.168.49.3 dev tunl0" for minikube-m02; its `calicoctl ipam show
// --show-blocks` listed exactly those two blocks.
TEST(IpamBlockChoice, MinikubeBlocksMatchRealCalico) {
  Ipam ipam = ipam_with(pool("10.244.0.0/16", 26));
  auto a = ipam.auto_assign(tunnel_assign_args(TunnelType::kIpip, "minikube"));
  auto b = ipam.auto_assign(tunnel_assign_args(TunnelType::kIpip, "minikube-m02"));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->block, prefix("10.244.120.64/26"));
  EXPECT_EQ(b->block, prefix("10.244.205.192/26"));
  EXPECT_EQ(assign_pod(ipam, "minikube", "default", "p1"), addr("10.244.120.65"));
}

// A three-node kubeadm cluster (nodes a1, a2, a3; pool 10.244.0.0/24, four /26 blocks) showed
// blocks 10.244.0.128/26, .192/26 and .64/26 in use, with kube-system/coredns on a1 at
// 10.244.0.142: a1 owns .128/26 and the other two nodes the .64 and .192 blocks.
TEST(IpamBlockChoice, SmallPoolThreeNodesMatchRealCalico) {
  Ipam ipam = ipam_with(pool("10.244.0.0/24", 26));
  std::set<std::string> blocks;
  for (const char* node : {"a1", "a2", "a3"}) {
    auto r = ipam.auto_assign(tunnel_assign_args(TunnelType::kIpip, node));
    ASSERT_TRUE(r.has_value()) << r.error().message;
    blocks.insert(r->block.to_string());
    if (std::string_view(node) == "a1") {
      EXPECT_EQ(r->block, prefix("10.244.0.128/26"));
    }
  }
  EXPECT_EQ(blocks,
            (std::set<std::string>{"10.244.0.128/26", "10.244.0.192/26", "10.244.0.64/26"}));
}

// The walk visits every block exactly once, starting at the node's index and wrapping.
TEST(IpamBlockChoice, WalkCoversThePoolOnceAndWraps) {
  const IpPool p = pool("10.244.0.0/22", 26);  // 16 blocks
  BlockWalk walk(p, "kind-worker");
  const std::uint64_t start = walk.start_index();
  std::vector<Ipv4Prefix> seen;
  for (auto b = walk.next(); b; b = walk.next()) seen.push_back(*b);
  ASSERT_EQ(seen.size(), 16u);
  for (std::size_t k = 0; k < seen.size(); ++k) {
    const std::uint64_t index = (start + k) % 16;
    EXPECT_EQ(seen[k], Ipv4Prefix(Ipv4Address(p.cidr.network().value() +
                                              static_cast<std::uint32_t>(index * 64)),
                                  26));
  }
  EXPECT_FALSE(walk.next().has_value());
}

// A node whose start block is taken walks on to the next free block (with wrap-around).
TEST(IpamBlockChoice, TakenStartBlockMovesToTheNext) {
  Ipam ipam = ipam_with(IpPool{});
  // kind-worker's start block is 192.168.162.128/26: let another node hold it first.
  ASSERT_TRUE(ipam.assign_ip({addr("192.168.162.130"), "other", "h", {}, std::nullopt}));
  auto r = ipam.auto_assign(tunnel_assign_args(TunnelType::kIpip, "kind-worker"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->block, prefix("192.168.162.192/26"));
}

// ---------------------------------------------------------------------------------------------
// The seed's two-node lab.

TEST(IpamLab, ControllerAndWorkerAddresses) {
  Ipam ipam;
  ASSERT_TRUE(ipam.add_pool(IpPool{}));  // 192.168.0.0/16, blockSize 26
  // calico-node's allocate-tunnel-addrs runs before any pod.
  auto ct = ipam.auto_assign(tunnel_assign_args(TunnelType::kIpip, "user-controller"));
  ASSERT_TRUE(ct.has_value());
  EXPECT_EQ(ct->block, prefix("192.168.136.0/26"));
  EXPECT_EQ(ct->address, addr("192.168.136.0"));
  EXPECT_EQ(assign_pod(ipam, "user-controller", "kube-system", "coredns-64897985d-vbpn4"),
            addr("192.168.136.1"));
  EXPECT_EQ(assign_pod(ipam, "user-controller", "kube-system",
                       "calico-kube-controllers-56fcbf9d6b-nlqg2"),
            addr("192.168.136.2"));
  EXPECT_EQ(assign_pod(ipam, "user-controller", "kube-system", "coredns-64897985d-jgj5s"),
            addr("192.168.136.3"));
  EXPECT_EQ(assign_pod(ipam, "user-controller", "default", "tmp"), addr("192.168.136.4"));
  EXPECT_EQ(ipam.release_by_handle(pod_handle("tmp")), 1u);
  // .4 went to the end of the free list: the next pod gets .5.
  EXPECT_EQ(assign_pod(ipam, "user-controller", "default", "hi"), addr("192.168.136.5"));

  auto wt = ipam.auto_assign(tunnel_assign_args(TunnelType::kIpip, "user-worker"));
  ASSERT_TRUE(wt.has_value());
  EXPECT_EQ(wt->block, prefix("192.168.153.192/26"));
  EXPECT_EQ(wt->address, addr("192.168.153.192"));
  EXPECT_EQ(assign_pod(ipam, "user-worker", "default", "hello-776c774f98-894tt"),
            addr("192.168.153.193"));

  const IpamAllocation* tunnel = ipam.allocation(addr("192.168.136.0"));
  ASSERT_NE(tunnel, nullptr);
  EXPECT_EQ(tunnel->handle, "ipip-tunnel-addr-user-controller");
  EXPECT_EQ(tunnel->attributes.at("type"), "ipipTunnelAddress");
  EXPECT_EQ(tunnel->attributes.at("node"), "user-controller");
  const IpamAllocation* hi = ipam.allocation(addr("192.168.136.5"));
  ASSERT_NE(hi, nullptr);
  EXPECT_EQ(hi->handle, "k8s-pod-network.hi");
  EXPECT_EQ(hi->attributes.at("namespace"), "default");
  EXPECT_EQ(hi->attributes.at("pod"), "hi");
  EXPECT_EQ(ipam.allocation(addr("192.168.136.4")), nullptr);
}

// ---------------------------------------------------------------------------------------------
// Order within a block.

TEST(IpamOrder, FreedAddressesAreReusedLastInReleaseOrder) {
  Ipam ipam = ipam_with(pool("10.0.0.0/26", 26));
  std::vector<Ipv4Address> got;
  for (int i = 0; i < 4; ++i) got.push_back(assign_pod(ipam, "n1", "ns", "p" + std::to_string(i)));
  EXPECT_EQ(got[0], addr("10.0.0.0"));  // ordinal 0 is handed out: no reserved addresses
  EXPECT_EQ(got[3], addr("10.0.0.3"));
  ASSERT_TRUE(ipam.release_ip(addr("10.0.0.2")));
  ASSERT_TRUE(ipam.release_ip(addr("10.0.0.0")));
  const IpamBlock* b = ipam.find_block(prefix("10.0.0.0/26"));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->unallocated().size(), 62u);
  EXPECT_EQ(b->unallocated().front(), 4u);
  EXPECT_EQ(b->unallocated()[60], 2u);
  EXPECT_EQ(b->unallocated()[61], 0u);
  // Every never-used ordinal goes first ...
  for (int i = 4; i < 64; ++i) {
    EXPECT_EQ(assign_pod(ipam, "n1", "ns", "q" + std::to_string(i)),
              Ipv4Address(addr("10.0.0.0").value() + static_cast<std::uint32_t>(i)));
  }
  // ... then the freed ones, in the order they were freed.
  EXPECT_EQ(assign_pod(ipam, "n1", "ns", "r1"), addr("10.0.0.2"));
  EXPECT_EQ(assign_pod(ipam, "n1", "ns", "r2"), addr("10.0.0.0"));
}

TEST(IpamOrder, ReleaseByHandleAppendsAscending) {
  Ipam ipam = ipam_with(pool("10.0.0.0/26", 26));
  AutoAssignArgs args = pod_assign_args("n1", "ns", "multi", "cid");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ipam.auto_assign(args));  // .0 .1 .2, one handle
  ASSERT_TRUE(ipam.auto_assign(pod_assign_args("n1", "ns", "other", "cid2")));  // .3
  EXPECT_EQ(ipam.ips_by_handle("k8s-pod-network.cid"),
            (std::vector<Ipv4Address>{addr("10.0.0.0"), addr("10.0.0.1"), addr("10.0.0.2")}));
  EXPECT_EQ(ipam.release_by_handle("k8s-pod-network.cid"), 3u);
  EXPECT_EQ(ipam.release_by_handle("k8s-pod-network.cid"), 0u);
  EXPECT_TRUE(ipam.ips_by_handle("k8s-pod-network.cid").empty());
  const auto& u = ipam.find_block(prefix("10.0.0.0/26"))->unallocated();
  ASSERT_EQ(u.size(), 63u);
  EXPECT_EQ((std::vector<std::uint32_t>(u.end() - 3, u.end())),
            (std::vector<std::uint32_t>{0, 1, 2}));
  EXPECT_EQ(u.front(), 4u);
}

// An emptied block keeps its affinity (Calico never releases it on its own), and the node keeps
// allocating from it.
TEST(IpamOrder, EmptyAffineBlockIsKept) {
  Ipam ipam = ipam_with(IpPool{});
  const Ipv4Address first = assign_pod(ipam, "kind-worker", "ns", "a");
  EXPECT_EQ(ipam.release_by_handle(pod_handle("a")), 1u);
  ASSERT_EQ(ipam.blocks().size(), 1u);
  EXPECT_TRUE(ipam.blocks()[0].empty());
  EXPECT_EQ(ipam.affine_blocks("kind-worker"),
            std::vector<Ipv4Prefix>{prefix("192.168.162.128/26")});
  EXPECT_EQ(assign_pod(ipam, "kind-worker", "ns", "b"), Ipv4Address(first.value() + 1));
}

TEST(IpamOrder, ReleaseAffinity) {
  Ipam ipam = ipam_with(IpPool{});
  assign_pod(ipam, "kind-worker", "ns", "a");
  const Ipv4Prefix block = prefix("192.168.162.128/26");
  auto busy = ipam.release_affinity(block, "kind-worker", true);
  ASSERT_FALSE(busy.has_value());
  EXPECT_EQ(busy.error().code, Errc::kInvalidArgument);
  EXPECT_FALSE(ipam.release_affinity(block, "kind-worker2", false).has_value());
  // Without must_be_empty the block stays but loses its owner ...
  ASSERT_TRUE(ipam.release_affinity(block, "kind-worker", false));
  ASSERT_NE(ipam.find_block(block), nullptr);
  EXPECT_FALSE(ipam.find_block(block)->affinity().has_value());
  EXPECT_TRUE(ipam.affine_blocks("kind-worker").empty());
  // ... and a block with no affinity is deleted once its last address goes.
  EXPECT_EQ(ipam.release_by_handle(pod_handle("a")), 1u);
  EXPECT_EQ(ipam.find_block(block), nullptr);
}

TEST(IpamOrder, ReleaseOfUnassignedAddressIsAnError) {
  Ipam ipam = ipam_with(IpPool{});
  auto r = ipam.release_ip(addr("192.168.1.1"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kNotFound);
  EXPECT_NE(r.error().message.find("192.168.1.1"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Exhaustion, strict affinity and borrowing. Pool 10.0.0.0/28 with /30 blocks: four blocks of
// four addresses.

Ipam tiny(bool strict) {
  return ipam_with(pool("10.0.0.0/28", 30, "tiny"), IpamConfig{strict, true, 0});
}

TEST(IpamBorrow, StrictAffinityExhaustionNamesNodeAndPool) {
  Ipam ipam = tiny(true);
  for (int i = 0; i < 16; ++i) assign_pod(ipam, "node-a", "ns", "p" + std::to_string(i));
  EXPECT_EQ(ipam.affine_blocks("node-a").size(), 4u);
  auto r = ipam.auto_assign(pod_assign_args("node-a", "ns", "one-too-many", "x"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kOutOfRange);
  EXPECT_NE(r.error().message.find("node-a"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("10.0.0.0/28"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("No more free affine blocks and strict affinity enabled"),
            std::string::npos)
      << r.error().message;
}

TEST(IpamBorrow, StrictAffinityForbidsBorrowing) {
  Ipam ipam = tiny(true);
  for (int i = 0; i < 16; ++i) assign_pod(ipam, "node-a", "ns", "p" + std::to_string(i));
  ASSERT_TRUE(ipam.release_by_handle(pod_handle("p5")) == 1u);  // room in node-a's blocks
  auto r = ipam.auto_assign(pod_assign_args("node-b", "ns", "b", "b"));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("node-b"), std::string::npos);
  // Nor may node-b take a specific address in node-a's block.
  const Ipv4Address freed = [&] {
    for (const IpamBlock& b : ipam.blocks()) {
      if (!b.unallocated().empty()) return b.address(b.unallocated().front());
    }
    return Ipv4Address();
  }();
  auto s = ipam.assign_ip({freed, "node-b", "h", {}, IpPoolUse::kWorkload});
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("affinity does not match"), std::string::npos)
      << s.error().message;
}

TEST(IpamBorrow, WithoutStrictAffinityANodeBorrows) {
  Ipam ipam = tiny(false);
  for (int i = 0; i < 16; ++i) assign_pod(ipam, "node-a", "ns", "p" + std::to_string(i));
  // Free one address in each of two blocks; node-b borrows from whichever block comes first
  // in its own walk order.
  const Ipv4Prefix first_block = ipam.blocks()[0].cidr();
  const Ipv4Prefix third_block = ipam.blocks()[2].cidr();
  ASSERT_TRUE(ipam.release_ip(Ipv4Address(first_block.network().value() + 1)));
  ASSERT_TRUE(ipam.release_ip(Ipv4Address(third_block.network().value() + 2)));
  BlockWalk walk(ipam.pools()[0], "node-b");
  Ipv4Prefix expected_block;
  for (auto b = walk.next(); b; b = walk.next()) {
    if (*b == first_block || *b == third_block) {
      expected_block = *b;
      break;
    }
  }
  auto r = ipam.auto_assign(pod_assign_args("node-b", "ns", "b", "b"));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(r->borrowed);
  EXPECT_FALSE(r->claimed_block);
  EXPECT_EQ(r->block, expected_block);
  EXPECT_EQ(r->block_owner, std::optional<std::string>("node-a"));
  EXPECT_TRUE(ipam.affine_blocks("node-b").empty());  // borrowing claims nothing
  EXPECT_EQ(ipam.allocation(r->address)->attributes.at("node"), "node-b");
  // The last free address goes too, then the pool is exhausted.
  ASSERT_TRUE(ipam.auto_assign(pod_assign_args("node-b", "ns", "c", "c")));
  auto none = ipam.auto_assign(pod_assign_args("node-b", "ns", "d", "d"));
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, Errc::kOutOfRange);
  EXPECT_NE(none.error().message.find("No IPs available in pools: [10.0.0.0/28]"),
            std::string::npos)
      << none.error().message;
  EXPECT_NE(none.error().message.find("node-b"), std::string::npos);
}

TEST(IpamBorrow, AssignIpInAnotherNodesBlockIsBorrowedWithoutStrictAffinity) {
  Ipam ipam = tiny(false);
  auto a = ipam.auto_assign(pod_assign_args("node-a", "ns", "a", "a"));
  ASSERT_TRUE(a.has_value());
  const Ipv4Address other(a->block.network().value() + 3);
  auto r = ipam.assign_ip({other, "node-b", "h", {{"node", "node-b"}}, IpPoolUse::kWorkload});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(r->borrowed);
  auto again = ipam.assign_ip({other, "node-b", "h2", {}, std::nullopt});
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, Errc::kExists);
}

// ---------------------------------------------------------------------------------------------
// Block limits.

TEST(IpamBlockLimit, MaxBlocksPerHostStopsNewClaims) {
  Ipam ipam = ipam_with(pool("10.0.0.0/24", 30, "p"), IpamConfig{true, true, 2});
  for (int i = 0; i < 8; ++i) assign_pod(ipam, "n1", "ns", "p" + std::to_string(i));
  EXPECT_EQ(ipam.affine_blocks("n1").size(), 2u);
  auto r = ipam.auto_assign(pod_assign_args("n1", "ns", "x", "x"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kOutOfRange);
  EXPECT_NE(r.error().message.find("limit of 2 blocks reached for this node"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("n1"), std::string::npos);
  // Another node is unaffected.
  EXPECT_TRUE(ipam.auto_assign(pod_assign_args("n2", "ns", "y", "y")).has_value());
  // A freed address in an affine block is still usable at the limit.
  ASSERT_EQ(ipam.release_by_handle(pod_handle("p3")), 1u);
  EXPECT_TRUE(ipam.auto_assign(pod_assign_args("n1", "ns", "z", "z")).has_value());
}

TEST(IpamBlockLimit, RequestLimitAndDefaultSafeguard) {
  // Without a configured limit autoAssign still stops at 20 blocks, and does not borrow then
  // even with strict affinity off (ErrBlockLimit is returned before the borrowing pass).
  Ipam ipam = ipam_with(pool("10.0.0.0/16", 30, "p"));
  for (int i = 0; i < 80; ++i) assign_pod(ipam, "n1", "ns", "p" + std::to_string(i));
  EXPECT_EQ(ipam.affine_blocks("n1").size(), 20u);
  auto r = ipam.auto_assign(pod_assign_args("n1", "ns", "x", "x"));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("limit of 20 blocks"), std::string::npos) << r.error().message;
  // A per-request limit applies on its own.
  AutoAssignArgs args = pod_assign_args("n2", "ns", "y0", "y0");
  args.max_blocks_per_host = 1;
  for (int i = 0; i < 4; ++i) {
    args.handle = pod_handle("y" + std::to_string(i));
    ASSERT_TRUE(ipam.auto_assign(args).has_value());
  }
  auto s = ipam.auto_assign(args);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("limit of 1 blocks"), std::string::npos) << s.error().message;
}

TEST(IpamBlockLimit, ConfigValidationFollowsSetIpamConfig) {
  Ipam ipam;
  EXPECT_FALSE(ipam.set_config(IpamConfig{false, true, 5}).has_value());  // needs strict
  EXPECT_FALSE(ipam.set_config(IpamConfig{false, false, 0}).has_value());
  EXPECT_TRUE(ipam.set_config(IpamConfig{true, false, 5}).has_value());
  EXPECT_EQ(ipam.config(), (IpamConfig{true, false, 5}));
}

// AutoAllocateBlocks off: a node with no blocks gets nothing (and does not borrow).
TEST(IpamBlockLimit, NoAutoAllocation) {
  Ipam ipam = ipam_with(pool("10.0.0.0/24", 26, "p"), IpamConfig{true, false, 0});
  auto r = ipam.auto_assign(pod_assign_args("n1", "ns", "x", "x"));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("failed to find or claim a block"), std::string::npos);
  // A block claimed by a specific assignment is then used.
  ASSERT_TRUE(ipam.assign_ip({addr("10.0.0.70"), "n1", "h", {}, std::nullopt}));
  auto s = ipam.auto_assign(pod_assign_args("n1", "ns", "y", "y"));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->address, addr("10.0.0.64"));
}

// ---------------------------------------------------------------------------------------------
// Pools and uses.

TEST(IpamPools, AllowedUsesDisabledAndSelectors) {
  Ipam ipam;
  IpPool tunnels = pool("10.10.0.0/24", 26, "tunnels");
  tunnels.allowed_uses = {IpPoolUse::kTunnel};
  IpPool workloads = pool("10.20.0.0/24", 26, "workloads");
  workloads.allowed_uses = {IpPoolUse::kWorkload};
  ASSERT_TRUE(ipam.add_pool(tunnels));
  ASSERT_TRUE(ipam.add_pool(workloads));
  auto t = ipam.auto_assign(tunnel_assign_args(TunnelType::kVxlan, "n1"));
  ASSERT_TRUE(t.has_value());
  EXPECT_TRUE(prefix("10.10.0.0/24").contains(t->address));
  EXPECT_EQ(ipam.allocation(t->address)->handle, "vxlan-tunnel-addr-n1");
  EXPECT_EQ(ipam.allocation(t->address)->attributes.at("type"), "vxlanTunnelAddress");
  EXPECT_TRUE(prefix("10.20.0.0/24").contains(assign_pod(ipam, "n1", "ns", "p")));

  ASSERT_TRUE(ipam.set_pool_disabled("tunnels", true));
  auto u = ipam.auto_assign(tunnel_assign_args(TunnelType::kIpip, "n2"));
  ASSERT_FALSE(u.has_value());
  EXPECT_NE(u.error().message.find("no pools match the required use (Tunnel)"), std::string::npos)
      << u.error().message;

  Ipam selective;
  IpPool none = pool("10.30.0.0/24", 26, "none");
  none.node_selector = "!all()";
  ASSERT_TRUE(selective.add_pool(none));
  auto v = selective.auto_assign(pod_assign_args("n1", "ns", "p", "p"));
  ASSERT_FALSE(v.has_value());
  EXPECT_NE(v.error().message.find("no configured Calico pools for node n1"), std::string::npos);
  // A requested pool is used as given, selector or not.
  AutoAssignArgs args = pod_assign_args("n1", "ns", "p", "p");
  args.pools = {prefix("10.30.0.0/24")};
  EXPECT_TRUE(selective.auto_assign(args).has_value());
  args.pools = {prefix("10.99.0.0/24")};
  auto w = selective.auto_assign(args);
  ASSERT_FALSE(w.has_value());
  EXPECT_NE(w.error().message.find("does not exist, or is not enabled"), std::string::npos);
}

TEST(IpamPools, PoolValidation) {
  Ipam ipam;
  ASSERT_TRUE(ipam.add_pool(pool("10.0.0.0/16", 26, "a")));
  EXPECT_EQ(ipam.add_pool(pool("10.0.1.0/24", 26, "b")).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(ipam.add_pool(pool("10.1.0.0/16", 26, "a")).error().code, Errc::kExists);
  EXPECT_FALSE(ipam.add_pool(pool("10.2.0.1/16", 26, "c")).has_value());  // not masked
  EXPECT_FALSE(ipam.add_pool(pool("10.3.0.0/16", 19, "d")).has_value());  // block < 20
  EXPECT_FALSE(ipam.add_pool(pool("10.4.0.0/28", 26, "e")).has_value());  // pool < block
  IpPool odd = pool("10.5.0.0/16", 26, "f");
  odd.node_selector = "role == 'edge'";
  EXPECT_EQ(ipam.add_pool(odd).error().code, Errc::kUnsupported);
  // Pools list by name.
  ASSERT_TRUE(ipam.add_pool(pool("10.6.0.0/16", 26, "0-first")));
  EXPECT_EQ(ipam.pools().front().name, "0-first");
}

TEST(IpamPools, AssignIpOutsidePoolsAndWrongUse) {
  Ipam ipam;
  IpPool tunnels = pool("10.10.0.0/24", 26, "tunnels");
  tunnels.allowed_uses = {IpPoolUse::kTunnel};
  ASSERT_TRUE(ipam.add_pool(tunnels));
  auto r = ipam.assign_ip({addr("10.11.0.1"), "n1", "", {}, std::nullopt});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kNotFound);
  auto s = ipam.assign_ip({addr("10.10.0.1"), "n1", "", {}, IpPoolUse::kWorkload});
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("not allowed for use"), std::string::npos);
  auto t = ipam.assign_ip({addr("10.10.0.1"), "n1", "", {}, IpPoolUse::kTunnel});
  ASSERT_TRUE(t.has_value());
  EXPECT_TRUE(t->claimed_block);
  EXPECT_EQ(t->block, prefix("10.10.0.0/26"));
  EXPECT_EQ(ipam.affine_blocks("n1"), std::vector<Ipv4Prefix>{prefix("10.10.0.0/26")});
}

// Same operations, same result: no hidden state.
TEST(IpamPools, Deterministic) {
  const auto run = [] {
    Ipam ipam = ipam_with(pool("10.0.0.0/20", 28, "p"));
    std::vector<std::string> out;
    for (int i = 0; i < 30; ++i) {
      const std::string node = "node-" + std::to_string(i % 3);
      out.push_back(assign_pod(ipam, node, "ns", "p" + std::to_string(i)).to_string());
    }
    return out;
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace calisim::calico
