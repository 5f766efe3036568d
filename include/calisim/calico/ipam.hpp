#pragma once
// Calico IPAM for IPv4, as libcalico-go/lib/ipam does it (reference v3.28; HEAD where noted):
// IP pools carved into blocks (default /26) that nodes claim by affinity, one allocation
// block per CIDR with Calico's "unallocated" ordinal list (first free ordinal out, released
// ordinals appended at the end, so a freed address is reused last), handles and attributes per
// allocation, the node's block choice seeded from FNV-1(node name) through Go's math/rand and
// math/big exactly as randomBlockGenerator does, the per-host block cap (IPAMConfiguration
// maxBlocksPerHost, 0 meaning Calico's safeguard of 20), StrictAffinity, and borrowing from
// other nodes' blocks when a node cannot claim one.
//
// What is modelled from where:
//   ipam.go            autoAssign, prepareAffinityBlocksForHost, determinePools, AssignIP,
//                      releaseIPsFromBlock, releaseByHandle, ensureConsistentAffinity,
//                      ReleaseAffinity
//   ipam_block.go      newBlock, autoAssign, assign, release, releaseByHandle, empty
//   ipam_block_reader_writer.go  findUsableBlock, randomBlockGenerator, releaseBlockAffinity
//   node/pkg/allocateip/allocateip.go  tunnel address handles and attributes
//   cni-plugin/pkg/ipamplugin/ipam_plugin.go  pod handle "k8s-pod-network.<containerID>"
// Not modelled: IPv6, IPReservations, host-reserved ordinals (Windows), IP cooldown (HEAD),
// HEAD's reclaiming of other nodes' empty blocks, label selectors other than all()/!all().
//
// Deterministic, no global state; several Ipam objects may coexist. Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <calisim/sim/result.hpp>
#include <calisim/sim/time.hpp>
#include <calisim/wire/address.hpp>

namespace calisim::calico {

// IPPool spec.allowedUses.
enum class IpPoolUse { kWorkload, kTunnel };
constexpr std::string_view to_string(IpPoolUse use) {
  return use == IpPoolUse::kWorkload ? "Workload" : "Tunnel";
}

// The IPAM-relevant part of an IPPool resource (api/pkg/apis/projectcalico/v3/ippool.go).
// Defaults are those of calico-node's default pool (node/pkg/lifecycle/startup/startup.go).
struct IpPool {
  std::string name = "default-ipv4-ippool";
  wire::Ipv4Prefix cidr{wire::Ipv4Address(192, 168, 0, 0), 16};
  int block_size = 26;
  // Only "all()" (also the meaning of an empty selector) and "!all()" are understood.
  std::string node_selector = "all()";
  bool disabled = false;
  std::vector<IpPoolUse> allowed_uses{IpPoolUse::kWorkload, IpPoolUse::kTunnel};

  bool allows(IpPoolUse use) const;
  bool selects_node(std::string_view node) const;
  // Blocks in the pool: 2^(block_size - cidr length).
  std::uint64_t num_blocks() const;
  // The block of this pool that holds `address` (getBlockCIDRForAddress).
  wire::Ipv4Prefix block_for(wire::Ipv4Address address) const;
};

// The IPAMConfiguration resource (libcalico-go ipam_types.go IPAMConfig), Calico's defaults.
struct IpamConfig {
  bool strict_affinity = false;
  bool auto_allocate_blocks = true;
  int max_blocks_per_host = 0;  // 0: no configured limit (autoAssign still caps at 20)

  friend bool operator==(const IpamConfig&, const IpamConfig&) = default;
};

// The per-request safeguard autoAssign applies when neither the request nor the configuration
// sets a block limit.
inline constexpr int kDefaultMaxBlocksPerHost = 20;

// Allocation attribute keys and values Calico writes (libcalico-go model.IPAMBlockAttribute*).
namespace ipam_attribute {
inline constexpr std::string_view kNode = "node";
inline constexpr std::string_view kNamespace = "namespace";
inline constexpr std::string_view kPod = "pod";
inline constexpr std::string_view kTimestamp = "timestamp";
inline constexpr std::string_view kType = "type";
inline constexpr std::string_view kTypeIpip = "ipipTunnelAddress";
inline constexpr std::string_view kTypeVxlan = "vxlanTunnelAddress";
inline constexpr std::string_view kTypeWireguard = "wireguardTunnelAddress";
}  // namespace ipam_attribute

// Sorted by key, which is also how the views print them.
using IpamAttributes = std::map<std::string, std::string, std::less<>>;

struct IpamAllocation {
  std::string handle;  // empty: no handle
  IpamAttributes attributes;
};

// One AllocationBlock: a block CIDR, its affinity and the state of every ordinal.
class IpamBlock {
 public:
  IpamBlock(wire::Ipv4Prefix cidr, std::optional<std::string> affinity_node);

  const wire::Ipv4Prefix& cidr() const { return cidr_; }
  // The node the block is affine to (Calico stores "host:<node>"); nullopt for none.
  const std::optional<std::string>& affinity() const { return affinity_; }
  bool affine_to(std::string_view node) const { return affinity_ && *affinity_ == node; }
  // The block's resource name in the Kubernetes datastore, "192-168-136-0-26"; blocks list in
  // this name's byte order.
  std::string name() const;

  std::uint32_t size() const { return static_cast<std::uint32_t>(allocations_.size()); }
  std::size_t free_count() const { return unallocated_.size(); }
  std::size_t in_use() const { return allocations_.size() - unallocated_.size(); }
  // No address allocated (allocationBlock.empty).
  bool empty() const { return unallocated_.size() == allocations_.size(); }
  // Free ordinals in the order autoAssign will hand them out.
  const std::vector<std::uint32_t>& unallocated() const { return unallocated_; }
  const std::optional<IpamAllocation>& allocation(std::uint32_t ordinal) const {
    return allocations_[ordinal];
  }
  wire::Ipv4Address address(std::uint32_t ordinal) const {
    return wire::Ipv4Address(cidr_.network().value() + ordinal);
  }
  std::optional<std::uint32_t> ordinal_of(wire::Ipv4Address address) const;

 private:
  friend class Ipam;
  // allocationBlock.autoAssign for one address: the first ordinal of the unallocated list.
  std::optional<std::uint32_t> assign_first_free(IpamAllocation allocation);
  // allocationBlock.assign: a given ordinal, wherever it sits in the unallocated list.
  Result<void> assign_ordinal(std::uint32_t ordinal, IpamAllocation allocation);
  // Releases the ordinals (ascending) and appends them to the unallocated list in that order.
  void release_ordinals(std::span<const std::uint32_t> ordinals);

  wire::Ipv4Prefix cidr_;
  std::optional<std::string> affinity_;
  std::vector<std::optional<IpamAllocation>> allocations_;
  std::vector<std::uint32_t> unallocated_;
};

// ipam.AutoAssignArgs for one IPv4 address (Num4 = 1), which is what the CNI plugin and
// calico-node's tunnel allocator ask for.
struct AutoAssignArgs {
  std::string node;                      // Hostname
  std::string handle;                    // HandleID; empty for none
  IpamAttributes attributes;             // Attrs
  IpPoolUse use = IpPoolUse::kWorkload;  // IntendedUse
  std::vector<wire::Ipv4Prefix> pools;   // IPv4Pools; empty: every enabled pool selecting the node
  int max_blocks_per_host = 0;           // MaxBlocksPerHost of the request; 0: the configuration's
  // Only for /32 blocks, where Calico seeds the block walk from the clock (determineSeed).
  Time now{};
};

// ipam.AssignIPArgs.
struct AssignIpArgs {
  wire::Ipv4Address address;
  std::string node;
  std::string handle;
  IpamAttributes attributes;
  // IntendedUse: checked against the pool's allowedUses when set (HEAD; v3.28 did not check).
  std::optional<IpPoolUse> use;
};

struct IpamAssignment {
  wire::Ipv4Address address;
  wire::Ipv4Prefix block;
  std::optional<std::string> block_owner;  // the block's affinity
  // The block is not affine to the node that got the address: the node must advertise a /32
  // for it (Calico's bird_ipam "borrowed" routes).
  bool borrowed = false;
  bool claimed_block = false;  // the node claimed the block in this call
};

// Walks the blocks of a pool in the order randomBlockGenerator yields them for a host: a start
// index from (*big.Int).Rand over rand.New(rand.NewSource(FNV-1(host))), then every block once,
// wrapping at the end of the pool.
class BlockWalk {
 public:
  BlockWalk(const IpPool& pool, std::string_view host, Time now = {});
  std::optional<wire::Ipv4Prefix> next();
  std::uint64_t start_index() const { return start_; }

 private:
  wire::Ipv4Prefix pool_cidr_;
  int block_size_;
  std::uint64_t num_blocks_;
  std::uint64_t start_ = 0;
  std::uint64_t index_ = 0;
  std::uint64_t returned_ = 0;
};

// Handles Calico uses for tunnel addresses (allocateip.go generateHandleAndAttributes).
enum class TunnelType { kIpip, kVxlan, kWireguard };
std::string tunnel_handle(TunnelType type, std::string_view node);  // "ipip-tunnel-addr-<node>"
std::string_view tunnel_attribute_type(TunnelType type);            // "ipipTunnelAddress"
// The request calico-node makes for a tunnel address: handle, attributes {node, type}, use Tunnel.
AutoAssignArgs tunnel_assign_args(TunnelType type, std::string_view node);
// The CNI plugin's handle, "k8s-pod-network.<containerID>" (utils.GetHandleID).
std::string pod_handle(std::string_view container_id);
// The request the CNI plugin makes for a pod: handle, attributes {namespace, node, pod}. The
// plugin's "timestamp" attribute is the wall clock; pass one in `attributes` if wanted.
AutoAssignArgs pod_assign_args(std::string_view node, std::string_view pod_namespace,
                               std::string_view pod, std::string_view container_id);

class Ipam {
 public:
  Ipam() = default;

  // SetIPAMConfig's validation: StrictAffinity and AutoAllocateBlocks cannot both be off, and
  // MaxBlocksPerHost requires StrictAffinity.
  Result<void> set_config(const IpamConfig& config);
  const IpamConfig& config() const { return config_; }

  // Creates a pool (the IPPool validation that matters here: a network CIDR, a block size
  // between the pool's prefix length and 32, no overlap with another pool, a unique name).
  Result<void> add_pool(IpPool pool);
  Result<void> set_pool_disabled(std::string_view name, bool disabled);
  // Sorted by name, the datastore's list order.
  const std::vector<IpPool>& pools() const { return pools_; }

  // Every allocation block, in the datastore's list order (block name byte order).
  const std::vector<IpamBlock>& blocks() const { return blocks_; }
  const IpamBlock* find_block(wire::Ipv4Prefix cidr) const;
  const IpamBlock* block_containing(wire::Ipv4Address address) const;
  // The node's affine blocks in list order (getAffineBlocks).
  std::vector<wire::Ipv4Prefix> affine_blocks(std::string_view node) const;

  // AutoAssign of one IPv4 address. Errors name the node and the pools tried.
  Result<IpamAssignment> auto_assign(const AutoAssignArgs& args);
  // AssignIP: claims the block for the node if it does not exist (with no block limit, as
  // Calico does).
  Result<IpamAssignment> assign_ip(const AssignIpArgs& args);

  // ReleaseIPs for one address; kNotFound if it is not allocated.
  Result<void> release_ip(wire::Ipv4Address address);
  // ReleaseByHandle; returns how many addresses were released (0 for an unknown handle).
  std::size_t release_by_handle(std::string_view handle);
  // ReleaseAffinity: with must_be_empty, fails on a block that has allocations; an empty block
  // is deleted, a non-empty one loses its affinity. Calico never does this on its own when a
  // block empties; calico-kube-controllers' node GC or `calicoctl ipam release` does.
  Result<void> release_affinity(wire::Ipv4Prefix block, std::string_view node, bool must_be_empty);

  std::vector<wire::Ipv4Address> ips_by_handle(std::string_view handle) const;
  // The allocation at an address, or nullptr.
  const IpamAllocation* allocation(wire::Ipv4Address address) const;

 private:
  std::optional<std::size_t> index_of(wire::Ipv4Prefix cidr) const;
  IpamBlock* mutable_block(wire::Ipv4Prefix cidr);
  void forget_affinity(const IpamBlock& block);
  IpamBlock& create_block(wire::Ipv4Prefix cidr, std::string_view node);
  void delete_block(wire::Ipv4Prefix cidr);
  void reindex();
  const IpPool* enabled_pool_containing(wire::Ipv4Address address) const;
  const IpPool* any_pool_containing(wire::Ipv4Address address) const;
  void note_handle(const std::string& handle, wire::Ipv4Prefix block, int delta);
  void after_release(wire::Ipv4Prefix block);

  IpamConfig config_;
  std::vector<IpPool> pools_;
  std::vector<IpamBlock> blocks_;
  std::unordered_map<std::uint32_t, std::size_t> block_index_;  // block network -> blocks_ index
  // Calico's BlockAffinity resources: node -> its blocks, in list order.
  std::unordered_map<std::string, std::vector<wire::Ipv4Prefix>> affine_index_;
  // Calico's IPAMHandle resources: handle -> (block network -> addresses held there).
  std::unordered_map<std::string, std::map<std::uint32_t, int>> handles_;
};

}  // namespace calisim::calico
