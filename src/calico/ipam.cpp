#include <calisim/calico/ipam.hpp>

#include <algorithm>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <calisim/calico/gorand.hpp>

namespace calisim::calico {

using wire::Ipv4Address;
using wire::Ipv4Prefix;

// ---------------------------------------------------------------------------------------------
// IpPool

bool IpPool::allows(IpPoolUse use) const {
  return std::find(allowed_uses.begin(), allowed_uses.end(), use) != allowed_uses.end();
}

bool IpPool::selects_node(std::string_view) const {
  // SelectsNode with the two selectors calisim understands (add_pool rejects the others).
  return node_selector != "!all()";
}

std::uint64_t IpPool::num_blocks() const {
  return std::uint64_t{1} << (block_size - cidr.length());
}

Ipv4Prefix IpPool::block_for(Ipv4Address address) const {
  return Ipv4Prefix(Ipv4Prefix(address, static_cast<std::uint8_t>(block_size)).network(),
                    static_cast<std::uint8_t>(block_size));
}

// ---------------------------------------------------------------------------------------------
// IpamBlock

IpamBlock::IpamBlock(Ipv4Prefix cidr, std::optional<std::string> affinity_node)
    : cidr_(cidr.network(), cidr.length()), affinity_(std::move(affinity_node)) {
  const std::uint32_t n = std::uint32_t{1} << (32 - cidr_.length());
  allocations_.resize(n);
  // newBlock: Unallocated = [0, 1, ..., N-1]. Ordinal 0 (the block's network address) is handed
  // out like any other: Calico blocks reserve nothing on Linux.
  unallocated_.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) unallocated_.push_back(i);
}

std::string IpamBlock::name() const {
  const auto o = cidr_.network().octets();
  return fmt::format("{}-{}-{}-{}-{}", o[0], o[1], o[2], o[3], cidr_.length());
}

std::optional<std::uint32_t> IpamBlock::ordinal_of(Ipv4Address address) const {
  if (!cidr_.contains(address)) return std::nullopt;
  return address.value() - cidr_.network().value();
}

std::optional<std::uint32_t> IpamBlock::assign_first_free(IpamAllocation allocation) {
  if (unallocated_.empty()) return std::nullopt;
  const std::uint32_t ordinal = unallocated_.front();
  unallocated_.erase(unallocated_.begin());
  allocations_[ordinal] = std::move(allocation);
  return ordinal;
}

Result<void> IpamBlock::assign_ordinal(std::uint32_t ordinal, IpamAllocation allocation) {
  if (allocations_[ordinal]) {
    return make_error(Errc::kExists, fmt::format("ipam: address {} already assigned in block {}",
                                                 address(ordinal), cidr_));
  }
  allocations_[ordinal] = std::move(allocation);
  unallocated_.erase(std::find(unallocated_.begin(), unallocated_.end(), ordinal));
  return {};
}

void IpamBlock::release_ordinals(std::span<const std::uint32_t> ordinals) {
  // Released ordinals go to the END of the unallocated list (ipam_block.go release /
  // garbageCollect), in ascending ordinal order, so they are reused only after every
  // never-used ordinal.
  for (std::uint32_t o : ordinals) {
    allocations_[o].reset();
    unallocated_.push_back(o);
  }
}

// ---------------------------------------------------------------------------------------------
// BlockWalk (randomBlockGenerator)

BlockWalk::BlockWalk(const IpPool& pool, std::string_view host, Time now)
    : pool_cidr_(pool.cidr.network(), pool.cidr.length()),
      block_size_(pool.block_size),
      num_blocks_(pool.num_blocks()) {
  // determineSeed: FNV-1 of the host name as an int64; for /32 blocks the wall clock instead.
  const std::int64_t seed =
      block_size_ == 32 ? now.ns() : static_cast<std::int64_t>(go_fnv1_32(host));
  GoRand rng(seed);
  start_ = go_big_int_rand(rng, num_blocks_);
  index_ = start_;
}

std::optional<Ipv4Prefix> BlockWalk::next() {
  if (returned_ >= num_blocks_) return std::nullopt;
  const std::uint64_t block_bytes = std::uint64_t{1} << (32 - block_size_);
  const auto network =
      static_cast<std::uint32_t>(pool_cidr_.network().value() + index_ * block_bytes);
  // Wrap to the start of the pool after its last block.
  index_ = index_ + 1 >= num_blocks_ ? 0 : index_ + 1;
  ++returned_;
  return Ipv4Prefix(Ipv4Address(network), static_cast<std::uint8_t>(block_size_));
}

// ---------------------------------------------------------------------------------------------
// Handles and requests

std::string tunnel_handle(TunnelType type, std::string_view node) {
  switch (type) {
    case TunnelType::kIpip:
      return fmt::format("ipip-tunnel-addr-{}", node);
    case TunnelType::kVxlan:
      return fmt::format("vxlan-tunnel-addr-{}", node);
    case TunnelType::kWireguard:
      return fmt::format("wireguard-tunnel-addr-{}", node);
  }
  return {};
}

std::string_view tunnel_attribute_type(TunnelType type) {
  switch (type) {
    case TunnelType::kIpip:
      return ipam_attribute::kTypeIpip;
    case TunnelType::kVxlan:
      return ipam_attribute::kTypeVxlan;
    case TunnelType::kWireguard:
      return ipam_attribute::kTypeWireguard;
  }
  return {};
}

AutoAssignArgs tunnel_assign_args(TunnelType type, std::string_view node) {
  AutoAssignArgs args;
  args.node = std::string(node);
  args.handle = tunnel_handle(type, node);
  args.attributes.emplace(ipam_attribute::kNode, node);
  args.attributes.emplace(ipam_attribute::kType, tunnel_attribute_type(type));
  args.use = IpPoolUse::kTunnel;
  return args;
}

std::string pod_handle(std::string_view container_id) {
  return fmt::format("k8s-pod-network.{}", container_id);
}

AutoAssignArgs pod_assign_args(std::string_view node, std::string_view pod_namespace,
                               std::string_view pod, std::string_view container_id) {
  AutoAssignArgs args;
  args.node = std::string(node);
  args.handle = pod_handle(container_id);
  args.attributes.emplace(ipam_attribute::kNamespace, pod_namespace);
  args.attributes.emplace(ipam_attribute::kNode, node);
  args.attributes.emplace(ipam_attribute::kPod, pod);
  args.use = IpPoolUse::kWorkload;
  return args;
}

// ---------------------------------------------------------------------------------------------
// Ipam: configuration and pools

Result<void> Ipam::set_config(const IpamConfig& config) {
  if (!config.strict_affinity && !config.auto_allocate_blocks) {
    return make_error(
        Errc::kInvalidArgument,
        "ipam: Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time");
  }
  if (config.max_blocks_per_host < 0) {
    return make_error(Errc::kInvalidArgument, "ipam: MaxBlocksPerHost must not be negative");
  }
  if (config.max_blocks_per_host > 0 && !config.strict_affinity) {
    return make_error(Errc::kInvalidArgument,
                      "ipam: MaxBlocksPerHost requires StrictAffinity to be enabled");
  }
  config_ = config;
  return {};
}

Result<void> Ipam::add_pool(IpPool pool) {
  if (pool.name.empty()) return make_error(Errc::kInvalidArgument, "ipam: IPPool name must be set");
  if (pool.block_size == 0) pool.block_size = 26;  // validateAndSetDefaults
  if (pool.allowed_uses.empty()) pool.allowed_uses = {IpPoolUse::kWorkload, IpPoolUse::kTunnel};
  if (pool.node_selector.empty()) pool.node_selector = "all()";
  if (pool.node_selector != "all()" && pool.node_selector != "!all()") {
    return make_error(Errc::kUnsupported,
                      fmt::format("ipam: IPPool {}: nodeSelector '{}' (calisim understands all() "
                                  "and !all())",
                                  pool.name, pool.node_selector));
  }
  if (pool.cidr.address() != pool.cidr.network()) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("ipam: IPPool {}: IPPool CIDR is not strictly masked ({})",
                                  pool.name, pool.cidr));
  }
  if (pool.block_size < 20 || pool.block_size > 32) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("ipam: IPPool {}: IPv4 block size must be between 20 and 32 "
                                  "(got {})",
                                  pool.name, pool.block_size));
  }
  if (pool.cidr.length() > pool.block_size) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("ipam: IPPool {}: IP pool size is too small for use with Calico "
                                  "IPAM. It must be equal to or greater than the block size.",
                                  pool.name));
  }
  for (const IpPool& other : pools_) {
    if (other.name == pool.name) {
      return make_error(Errc::kExists, fmt::format("ipam: IPPool {} already exists", pool.name));
    }
    if (other.cidr.contains(pool.cidr) || pool.cidr.contains(other.cidr)) {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("ipam: IPPool({}) CIDR overlaps with IPPool({}) CIDR {}",
                                    pool.name, other.name, other.cidr));
    }
  }
  const auto at =
      std::lower_bound(pools_.begin(), pools_.end(), pool.name,
                       [](const IpPool& p, const std::string& n) { return p.name < n; });
  pools_.insert(at, std::move(pool));
  return {};
}

Result<void> Ipam::set_pool_disabled(std::string_view name, bool disabled) {
  for (IpPool& p : pools_) {
    if (p.name == name) {
      p.disabled = disabled;
      return {};
    }
  }
  return make_error(Errc::kNotFound, fmt::format("ipam: no IPPool named {}", name));
}

const IpPool* Ipam::enabled_pool_containing(Ipv4Address address) const {
  for (const IpPool& p : pools_) {
    if (!p.disabled && p.cidr.contains(address)) return &p;
  }
  return nullptr;
}

const IpPool* Ipam::any_pool_containing(Ipv4Address address) const {
  for (const IpPool& p : pools_) {
    if (p.cidr.contains(address)) return &p;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Ipam: blocks

std::optional<std::size_t> Ipam::index_of(Ipv4Prefix cidr) const {
  const auto it = block_index_.find(cidr.network().value());
  if (it == block_index_.end() || blocks_[it->second].cidr().length() != cidr.length()) {
    return std::nullopt;
  }
  return it->second;
}

const IpamBlock* Ipam::find_block(Ipv4Prefix cidr) const {
  const auto i = index_of(cidr);
  return i ? &blocks_[*i] : nullptr;
}

IpamBlock* Ipam::mutable_block(Ipv4Prefix cidr) {
  const auto i = index_of(cidr);
  return i ? &blocks_[*i] : nullptr;
}

const IpamBlock* Ipam::block_containing(Ipv4Address address) const {
  // getBlockForIP: any block, whether or not a pool still covers it. A pool names the block
  // directly; a block left outside every pool needs the scan.
  for (const IpPool& p : pools_) {
    if (!p.cidr.contains(address)) continue;
    if (const IpamBlock* b = find_block(p.block_for(address))) return b;
  }
  for (const IpamBlock& b : blocks_) {
    if (b.cidr().contains(address)) return &b;
  }
  return nullptr;
}

std::vector<Ipv4Prefix> Ipam::affine_blocks(std::string_view node) const {
  const auto it = affine_index_.find(std::string(node));
  return it == affine_index_.end() ? std::vector<Ipv4Prefix>{} : it->second;
}

void Ipam::reindex() {
  block_index_.clear();
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    block_index_[blocks_[i].cidr().network().value()] = i;
  }
}

void Ipam::forget_affinity(const IpamBlock& block) {
  if (!block.affinity()) return;
  const auto it = affine_index_.find(*block.affinity());
  if (it == affine_index_.end()) return;
  std::erase(it->second, block.cidr());
  if (it->second.empty()) affine_index_.erase(it);
}

IpamBlock& Ipam::create_block(Ipv4Prefix cidr, std::string_view node) {
  // claimAffineBlock: a new block with affinity "host:<node>". The datastore lists blocks (and
  // a host's block affinities) by resource name, so keep that order.
  IpamBlock block(cidr, std::string(node));
  const std::string name = block.name();
  const auto by_name = [](const IpamBlock& b, const std::string& n) { return b.name() < n; };
  const auto at = std::lower_bound(blocks_.begin(), blocks_.end(), name, by_name);
  const auto pos = static_cast<std::size_t>(at - blocks_.begin());
  blocks_.insert(at, std::move(block));
  reindex();
  auto& mine = affine_index_[std::string(node)];
  mine.push_back(blocks_[pos].cidr());
  std::sort(mine.begin(), mine.end(),
            [this](Ipv4Prefix a, Ipv4Prefix b) { return *index_of(a) < *index_of(b); });
  return blocks_[pos];
}

void Ipam::delete_block(Ipv4Prefix cidr) {
  const auto i = index_of(cidr);
  if (!i) return;
  forget_affinity(blocks_[*i]);
  blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(*i));
  reindex();
}

void Ipam::note_handle(const std::string& handle, Ipv4Prefix block, int delta) {
  if (handle.empty()) return;
  auto& per_block = handles_[handle];
  int& count = per_block[block.network().value()];
  count += delta;
  if (count <= 0) per_block.erase(block.network().value());
  if (per_block.empty()) handles_.erase(handle);
}

// releaseIPsFromBlock / releaseByHandle epilogue: an empty block with no affinity is deleted;
// an empty affine block whose pool no longer selects its node loses that affinity
// (ensureConsistentAffinity). An empty block affine to a node the pool still selects stays.
void Ipam::after_release(Ipv4Prefix cidr) {
  const IpamBlock* b = find_block(cidr);
  if (b == nullptr || !b->empty()) return;
  if (!b->affinity()) {
    delete_block(cidr);
    return;
  }
  const IpPool* pool = enabled_pool_containing(cidr.network());
  if (pool != nullptr && !pool->selects_node(*b->affinity())) delete_block(cidr);
}

// ---------------------------------------------------------------------------------------------
// Ipam: assignment

namespace {

std::string cidr_list(const std::vector<const IpPool*>& pools) {
  std::vector<std::string> cidrs;
  for (const IpPool* p : pools) cidrs.push_back(p->cidr.to_string());
  // Go's %v of a []string: "[a b c]".
  return fmt::format("[{}]", fmt::join(cidrs, " "));
}

IpamAssignment make_assignment(const IpamBlock& block, std::uint32_t ordinal, std::string_view node,
                               bool claimed) {
  IpamAssignment a;
  a.address = block.address(ordinal);
  a.block = block.cidr();
  a.block_owner = block.affinity();
  a.borrowed = !block.affine_to(node);
  a.claimed_block = claimed;
  return a;
}

}  // namespace

Result<IpamAssignment> Ipam::auto_assign(const AutoAssignArgs& args) {
  if (args.node.empty()) {
    return make_error(Errc::kInvalidArgument, "ipam: auto-assign needs the node's name");
  }
  const IpamAllocation allocation{args.handle, args.attributes};

  // determinePools: requested pools must exist and be enabled and are used as given; otherwise
  // every enabled pool whose nodeSelector selects the node.
  std::vector<const IpPool*> selecting;
  bool any_enabled = false;
  for (const IpPool& p : pools_) any_enabled = any_enabled || !p.disabled;
  if (!any_enabled) {
    return make_error(Errc::kNotFound,
                      fmt::format("ipam: node {}: cannot find a qualified ippool", args.node));
  }
  for (const Ipv4Prefix& requested : args.pools) {
    const Ipv4Prefix net(requested.network(), requested.length());
    const auto it = std::find_if(pools_.begin(), pools_.end(),
                                 [&](const IpPool& p) { return !p.disabled && p.cidr == net; });
    if (it == pools_.end()) {
      return make_error(Errc::kNotFound,
                        fmt::format("ipam: node {}: the given pool ({}) does not exist, or is not "
                                    "enabled",
                                    args.node, net));
    }
    selecting.push_back(&*it);
  }
  if (args.pools.empty()) {
    for (const IpPool& p : pools_) {
      if (!p.disabled && p.selects_node(args.node)) selecting.push_back(&p);
    }
  }
  if (selecting.empty()) {
    return make_error(Errc::kNotFound,
                      fmt::format("ipam: no configured Calico pools for node {}", args.node));
  }
  std::vector<const IpPool*> pools;  // filterPoolsByUse
  for (const IpPool* p : selecting) {
    if (p->allows(args.use)) pools.push_back(p);
  }
  if (pools.empty()) {
    return make_error(Errc::kNotFound,
                      fmt::format("ipam: node {}: cannot find a qualified ippool, no pools match "
                                  "the required use ({})",
                                  args.node, to_string(args.use)));
  }
  const auto in_any = [](const std::vector<const IpPool*>& set, Ipv4Prefix block) {
    return std::any_of(set.begin(), set.end(),
                       [&](const IpPool* p) { return p->cidr.contains(block.network()); });
  };

  // prepareAffinityBlocksForHost: the node's affine blocks in allowed pools, in list order; empty
  // affine blocks in enabled pools that no longer select the node are released.
  std::vector<Ipv4Prefix> affine;
  std::vector<Ipv4Prefix> to_release;
  for (const Ipv4Prefix& b : affine_blocks(args.node)) {
    if (in_any(pools, b)) {
      affine.push_back(b);
    } else if (!in_any(selecting, b)) {
      const IpPool* owner = enabled_pool_containing(b.network());
      if (owner != nullptr && !owner->selects_node(args.node)) to_release.push_back(b);
    }
  }
  for (const Ipv4Prefix& b : to_release) (void)release_affinity(b, args.node, true);

  // The block limit: the stricter of the request's and the configuration's, else 20.
  int max_blocks = args.max_blocks_per_host;
  if (config_.max_blocks_per_host > 0 && max_blocks > 0 &&
      max_blocks > config_.max_blocks_per_host) {
    max_blocks = config_.max_blocks_per_host;
  } else if (max_blocks == 0) {
    max_blocks = config_.max_blocks_per_host;
  }
  if (max_blocks == 0) max_blocks = kDefaultMaxBlocksPerHost;
  const bool allow_new_claim = static_cast<int>(affine.size()) < max_blocks;

  std::vector<std::string> messages;  // IPAMAssignments.Msgs
  // Errors say which node asked and which pools it could use, then Calico's own words
  // (IPAMAssignments.PartialFulfillmentError, ErrBlockLimit).
  const auto where = [&] {
    return fmt::format("ipam: node {}, pools {}", args.node, cidr_list(pools));
  };
  const auto exhausted = [&]() {
    return make_error(Errc::kOutOfRange,
                      fmt::format("{}: Assigned 0 out of 1 requested IPv4 addresses; {}", where(),
                                  fmt::join(messages, "; ")));
  };

  // findOrClaimBlock, 1: the first affine block with a free address.
  for (const Ipv4Prefix& cidr : affine) {
    IpamBlock* b = mutable_block(cidr);
    if (b == nullptr || b->free_count() == 0) continue;
    const auto ordinal = b->assign_first_free(allocation);
    note_handle(args.handle, cidr, 1);
    return make_assignment(*b, *ordinal, args.node, false);
  }
  // 2: the block limit.
  if (!allow_new_claim) {
    return make_error(
        Errc::kOutOfRange,
        fmt::format("{}: cannot allocate new block due to per host block limit; Need to allocate "
                    "an IPAM block but could not - limit of {} blocks reached for this node",
                    where(), max_blocks));
  }
  // 3: claim a block: findUsableBlock walks each pool from the node's random start and takes the
  // first block that does not exist yet (or one of ours with room).
  if (!config_.auto_allocate_blocks) {
    return make_error(Errc::kOutOfRange,
                      fmt::format("{}: failed to find or claim a block", where()));
  }
  for (const IpPool* pool : pools) {
    BlockWalk walk(*pool, args.node, args.now);
    for (auto cidr = walk.next(); cidr; cidr = walk.next()) {
      IpamBlock* existing = mutable_block(*cidr);
      if (existing == nullptr) {
        IpamBlock& b = create_block(*cidr, args.node);
        const auto ordinal = b.assign_first_free(allocation);
        note_handle(args.handle, *cidr, 1);
        return make_assignment(b, *ordinal, args.node, true);
      }
      if (existing->affine_to(args.node) && existing->free_count() != 0) {
        // Ours with room (Calico guards a race here; sequentially the affine pass found it).
        const auto ordinal = existing->assign_first_free(allocation);
        note_handle(args.handle, *cidr, 1);
        return make_assignment(*existing, *ordinal, args.node, false);
      }
    }
  }
  // noFreeBlocksError.
  if (config_.strict_affinity) {
    messages.emplace_back("No more free affine blocks and strict affinity enabled");
    return exhausted();
  }
  // 4: borrow. Without strict affinity the node hunts through the pools' blocks in its own walk
  // order and takes the first free address of any existing block, affine to another node or
  // to none.
  std::vector<const IpPool*> exhausted_pools;
  for (const IpPool* pool : pools) {
    BlockWalk walk(*pool, args.node, args.now);
    for (auto cidr = walk.next(); cidr; cidr = walk.next()) {
      IpamBlock* b = mutable_block(*cidr);
      if (b == nullptr) continue;
      const auto ordinal = b->assign_first_free(allocation);
      if (!ordinal) continue;
      note_handle(args.handle, *cidr, 1);
      return make_assignment(*b, *ordinal, args.node, false);
    }
    exhausted_pools.push_back(pool);
  }
  messages.push_back(fmt::format("No IPs available in pools: {}", cidr_list(exhausted_pools)));
  return exhausted();
}

Result<IpamAssignment> Ipam::assign_ip(const AssignIpArgs& args) {
  if (args.node.empty()) {
    return make_error(Errc::kInvalidArgument, "ipam: assign needs the node's name");
  }
  const IpPool* pool = enabled_pool_containing(args.address);
  if (pool == nullptr) {
    return make_error(
        Errc::kNotFound,
        fmt::format("ipam: {}: The provided IP address is not in a configured pool", args.address));
  }
  if (args.use && !pool->allows(*args.use)) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("ipam: IP address {} is in IP pool \"{}\", which is not allowed "
                                  "for use \"{}\"",
                                  args.address, pool->name, to_string(*args.use)));
  }
  const Ipv4Prefix cidr = pool->block_for(args.address);
  bool claimed = false;
  IpamBlock* b = mutable_block(cidr);
  if (b == nullptr) {
    b = &create_block(cidr, args.node);
    claimed = true;
  }
  if (config_.strict_affinity) {
    if (!b->affinity()) {
      return make_error(
          Errc::kInvalidArgument,
          fmt::format("ipam: node {}: Attempt to assign from block {} with no affinity", args.node,
                      cidr));
    }
    if (!b->affine_to(args.node)) {
      return make_error(
          Errc::kInvalidArgument,
          fmt::format("ipam: node {}: Block host affinity does not match (block {} is "
                      "affine to {})",
                      args.node, cidr, *b->affinity()));
    }
  }
  const std::uint32_t ordinal = *b->ordinal_of(args.address);
  if (auto r = b->assign_ordinal(ordinal, IpamAllocation{args.handle, args.attributes}); !r) {
    return std::unexpected(r.error());
  }
  note_handle(args.handle, cidr, 1);
  return make_assignment(*b, ordinal, args.node, claimed);
}

// ---------------------------------------------------------------------------------------------
// Ipam: release

Result<void> Ipam::release_ip(Ipv4Address address) {
  const IpamBlock* found = block_containing(address);
  if (found == nullptr || !found->allocation(*found->ordinal_of(address))) {
    return make_error(Errc::kNotFound, fmt::format("ipam: {} is not assigned", address));
  }
  const Ipv4Prefix cidr = found->cidr();
  IpamBlock* b = mutable_block(cidr);
  const std::uint32_t ordinal = *b->ordinal_of(address);
  const std::string handle = b->allocation(ordinal)->handle;
  b->release_ordinals(std::span<const std::uint32_t>(&ordinal, 1));
  note_handle(handle, cidr, -1);
  after_release(cidr);
  return {};
}

std::size_t Ipam::release_by_handle(std::string_view handle) {
  const auto it = handles_.find(std::string(handle));
  if (it == handles_.end()) return 0;
  const auto per_block = it->second;  // copy: note_handle edits the index
  std::size_t released = 0;
  for (const auto& [network, count] : per_block) {
    (void)count;
    const auto bi = block_index_.find(network);
    if (bi == block_index_.end()) continue;
    IpamBlock& b = blocks_[bi->second];  // (block networks are unique across pools)
    std::vector<std::uint32_t> ordinals;
    for (std::uint32_t o = 0; o < b.size(); ++o) {
      if (b.allocation(o) && b.allocation(o)->handle == handle) ordinals.push_back(o);
    }
    if (ordinals.empty()) continue;
    b.release_ordinals(ordinals);
    released += ordinals.size();
    const Ipv4Prefix cidr = b.cidr();
    note_handle(std::string(handle), cidr, -static_cast<int>(ordinals.size()));
    after_release(cidr);
  }
  handles_.erase(std::string(handle));
  return released;
}

Result<void> Ipam::release_affinity(Ipv4Prefix cidr, std::string_view node, bool must_be_empty) {
  IpamBlock* b = mutable_block(cidr);
  if (b == nullptr || !b->affine_to(node)) {
    return make_error(Errc::kNotFound,
                      fmt::format("ipam: block {} is not affine to node {}", cidr, node));
  }
  if (must_be_empty && !b->empty()) {
    return make_error(
        Errc::kInvalidArgument,
        fmt::format("ipam: block {} of node {} is not empty ({} in use)", cidr, node, b->in_use()));
  }
  if (b->empty()) {
    delete_block(cidr);
  } else {
    forget_affinity(*b);
    b->affinity_.reset();
  }
  return {};
}

std::vector<Ipv4Address> Ipam::ips_by_handle(std::string_view handle) const {
  std::vector<Ipv4Address> out;
  const auto it = handles_.find(std::string(handle));
  if (it == handles_.end()) return out;
  for (const IpamBlock& b : blocks_) {
    if (!it->second.contains(b.cidr().network().value())) continue;
    for (std::uint32_t o = 0; o < b.size(); ++o) {
      if (b.allocation(o) && b.allocation(o)->handle == handle) out.push_back(b.address(o));
    }
  }
  return out;
}

const IpamAllocation* Ipam::allocation(Ipv4Address address) const {
  const IpamBlock* b = block_containing(address);
  if (b == nullptr) return nullptr;
  const auto& a = b->allocation(*b->ordinal_of(address));
  return a ? &*a : nullptr;
}

}  // namespace calisim::calico
