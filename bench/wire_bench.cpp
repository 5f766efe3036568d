// Build and parse of the two encapsulated packets Calico puts on the wire most: an ICMP echo
// between pods inside IPIP, and inside VXLAN. Build = IPv4 + ICMP emit, encapsulation, outer
// Ethernet; parse = every layer's view and the checksums a receiver verifies.

#include <benchmark/benchmark.h>

#include <array>

#include <calisim/dataplane/encap.hpp>
#include <calisim/wire/ethernet.hpp>
#include <calisim/wire/icmp.hpp>
#include <calisim/wire/ipv4.hpp>
#include <calisim/wire/packet.hpp>
#include <calisim/wire/udp.hpp>
#include <calisim/wire/vxlan.hpp>

namespace {

using namespace calisim;
using wire::Ipv4Address;
using wire::MacAddress;

constexpr Ipv4Address kPodA(192, 168, 102, 193);
constexpr Ipv4Address kPodB(192, 168, 49, 69);
constexpr Ipv4Address kNodeA(203, 248, 23, 215);
constexpr Ipv4Address kNodeB(203, 248, 23, 214);
constexpr MacAddress kMacA({0x08, 0x00, 0x27, 0x01, 0x02, 0x03});
constexpr MacAddress kMacB({0x08, 0x00, 0x27, 0x04, 0x05, 0x06});

const std::array<std::uint8_t, 56> kPingData = [] {
  std::array<std::uint8_t, 56> d{};
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::uint8_t>(i);
  return d;
}();

wire::Packet build_echo(wire::PacketPool& pool, std::uint16_t seq) {
  const auto icmp = wire::IcmpMessage::echo_request(0x1608, seq, kPingData);
  wire::Ipv4Header ip;
  ip.total_length = static_cast<std::uint16_t>(20 + icmp.size());
  ip.identification = seq;
  ip.dont_fragment = true;
  ip.ttl = 63;
  ip.protocol = wire::IpProtocol::kIcmp;
  ip.source = kPodA;
  ip.destination = kPodB;
  wire::Packet p = pool.make(ip.total_length);
  ip.emit(p.bytes());
  icmp.emit(p.bytes().subspan(20));
  return p;
}

void push_ethernet(wire::Packet& p, MacAddress dst, MacAddress src) {
  wire::EthernetHeader{dst, src, wire::EtherType::kIpv4}.emit(
      p.push_front(wire::EthernetHeader::kLength));
}

wire::Packet build_ipip(wire::PacketPool& pool, std::uint16_t seq) {
  wire::Packet p = build_echo(pool, seq);
  if (!dataplane::ipip_encapsulate(p, kNodeA, kNodeB, seq)) std::abort();
  push_ethernet(p, kMacB, kMacA);
  return p;
}

wire::Packet build_vxlan(wire::PacketPool& pool, std::uint16_t seq) {
  wire::Packet p = build_echo(pool, seq);
  push_ethernet(p, MacAddress({0x66, 1, 2, 3, 4, 5}), MacAddress({0x66, 6, 7, 8, 9, 10}));
  dataplane::VxlanOuter outer;
  outer.source = kNodeA;
  outer.destination = kNodeB;
  outer.source_port = wire::vxlan_source_port(wire::flow_hash(kPodA, kPodB, 1, 0, 0));
  outer.identification = seq;
  if (!dataplane::vxlan_encapsulate(p, outer)) std::abort();
  push_ethernet(p, kMacB, kMacA);
  return p;
}

// Receiver's view of an IPv4 datagram carrying an ICMP echo: header checksum, ICMP checksum.
std::uint16_t parse_echo(wire::Bytes datagram) {
  auto ip = wire::Ipv4View::parse(datagram);
  if (!ip || !ip->checksum_valid()) std::abort();
  auto icmp = wire::IcmpMessage::parse(ip->payload());
  if (!icmp) std::abort();
  return icmp->sequence;
}

std::uint16_t parse_ipip(wire::Bytes frame) {
  auto eth = wire::EthernetView::parse(frame);
  if (!eth) std::abort();
  auto outer = wire::Ipv4View::parse(eth->payload());
  if (!outer || !outer->checksum_valid() || outer->protocol() != wire::IpProtocol::kIpip) {
    std::abort();
  }
  return parse_echo(outer->payload());
}

std::uint16_t parse_vxlan(wire::Bytes frame) {
  auto eth = wire::EthernetView::parse(frame);
  if (!eth) std::abort();
  auto outer = wire::Ipv4View::parse(eth->payload());
  if (!outer || !outer->checksum_valid()) std::abort();
  auto udp = wire::UdpView::parse(outer->payload());
  if (!udp || !udp->checksum_valid(outer->source(), outer->destination())) std::abort();
  auto vxlan = wire::VxlanView::parse(udp->payload());
  if (!vxlan) std::abort();
  auto inner = wire::EthernetView::parse(vxlan->payload());
  if (!inner) std::abort();
  return parse_echo(inner->payload());
}

void BM_BuildIpipEcho(benchmark::State& state) {
  wire::PacketPool pool;
  std::uint16_t seq = 0;
  for (auto _ : state) {
    wire::Packet p = build_ipip(pool, ++seq);
    benchmark::DoNotOptimize(p.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_BuildIpipEcho);

void BM_ParseIpipEcho(benchmark::State& state) {
  wire::PacketPool pool;
  const wire::Packet p = build_ipip(pool, 1);
  for (auto _ : state) benchmark::DoNotOptimize(parse_ipip(p.bytes()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ParseIpipEcho);

void BM_BuildVxlanEcho(benchmark::State& state) {
  wire::PacketPool pool;
  std::uint16_t seq = 0;
  for (auto _ : state) {
    wire::Packet p = build_vxlan(pool, ++seq);
    benchmark::DoNotOptimize(p.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_BuildVxlanEcho);

void BM_ParseVxlanEcho(benchmark::State& state) {
  wire::PacketPool pool;
  const wire::Packet p = build_vxlan(pool, 1);
  for (auto _ : state) benchmark::DoNotOptimize(parse_vxlan(p.bytes()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ParseVxlanEcho);

}  // namespace
