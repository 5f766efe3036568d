#include "cli/demo.hpp"

#include <array>
#include <optional>
#include <system_error>

#include <fmt/format.h>

#include <calisim/capture/pcapng_writer.hpp>
#include <calisim/dataplane/encap.hpp>
#include <calisim/dataplane/ip_ident.hpp>
#include <calisim/sim/simulator.hpp>
#include <calisim/wire/ethernet.hpp>
#include <calisim/wire/icmp.hpp>
#include <calisim/wire/ipv4.hpp>
#include <calisim/wire/packet.hpp>
#include <calisim/wire/sha1.hpp>
#include <calisim/wire/vxlan.hpp>

namespace calisim::cli {
namespace {

using capture::Direction;
using capture::InterfaceId;
using capture::LinkType;
using capture::PcapngWriter;
using wire::EthernetHeader;
using wire::EtherType;
using wire::Ipv4Address;
using wire::MacAddress;
using wire::Packet;

// The lab of the seed: two VirtualBox nodes on one /25. Pod addresses and blocks are
// illustrative until IPAM exists (issue #5): the tunnel address takes a block's first address,
// then pods take the next ones in order.
constexpr Ipv4Address kWorkerNode(203, 248, 23, 215);
constexpr Ipv4Address kControllerNode(203, 248, 23, 214);
constexpr Ipv4Address kWorkerTunnel(192, 168, 102, 192);
constexpr Ipv4Address kControllerTunnel(192, 168, 49, 64);
constexpr Ipv4Address kHelloPod(192, 168, 102, 193);
constexpr Ipv4Address kHiPod(192, 168, 49, 69);
constexpr const char* kWorker = "user-worker";
constexpr const char* kController = "user-controller";

// Calico's host-side veth MAC (cni-plugin dataplane_linux.go, hostSideMAC).
constexpr MacAddress kCaliMac({0xee, 0xee, 0xee, 0xee, 0xee, 0xee});

// Per-hop latencies of the demonstration (the real ones come from the link model later).
constexpr Duration kVethDelay = Duration::microseconds(2);
constexpr Duration kForwardDelay = Duration::microseconds(8);
constexpr Duration kPropagation = Duration::microseconds(100);
constexpr Duration kPodTurnaround = Duration::microseconds(15);
constexpr std::int64_t kLinkBitsPerSecond = 1'000'000'000;

// "cali" + the first 11 hex digits of sha1("<namespace>.<pod>") (libcalico-go
// VethNameForWorkload).
std::string cali_name(std::string_view ns, std::string_view pod) {
  return "cali" + wire::to_hex(wire::sha1(fmt::format("{}.{}", ns, pod))).substr(0, 11);
}

// Felix's VXLAN VTEP MAC: 0x66 then the first five bytes of sha1(node name) (vxlan_mgr.go).
MacAddress vtep_mac(std::string_view node) {
  const auto d = wire::sha1(node);
  return MacAddress({0x66, d[0], d[1], d[2], d[3], d[4]});
}

// A kernel-random MAC: locally administered, unicast.
MacAddress random_mac(RandomStream& rng) {
  std::array<std::uint8_t, 6> b{};
  for (auto& x : b) x = static_cast<std::uint8_t>(rng.next_u32());
  b[0] = static_cast<std::uint8_t>((b[0] & 0xfe) | 0x02);
  return MacAddress(b);
}

// A VirtualBox NIC MAC (OUI 08:00:27).
MacAddress virtualbox_mac(RandomStream& rng) {
  const std::uint32_t r = rng.next_u32();
  return MacAddress({0x08, 0x00, 0x27, static_cast<std::uint8_t>(r >> 16),
                     static_cast<std::uint8_t>(r >> 8), static_cast<std::uint8_t>(r)});
}

Duration wire_time(std::size_t frame_bytes) {
  // Preamble, start delimiter, FCS and inter-frame gap: 24 bytes beyond the captured frame.
  const auto bits = static_cast<std::int64_t>(frame_bytes + 24) * 8;
  return Duration::nanoseconds(bits * 1'000'000'000 / kLinkBitsPerSecond) + kPropagation;
}

struct Host {
  std::string node;
  Ipv4Address node_ip;
  Ipv4Address tunnel_ip;
  MacAddress nic_mac;
  MacAddress vtep;
  dataplane::IpIdentGenerator ident;
  InterfaceId nic;
  InterfaceId tunnel;
  InterfaceId cali;
};

struct Pod {
  std::string ns;
  std::string name;
  Ipv4Address ip;
  MacAddress mac;
  dataplane::IpIdentGenerator ident;  // the pod netns's own, for its ICMP replies
  std::uint16_t socket_ident;         // ping's connected raw socket: random start, +1 a packet
  InterfaceId eth0;
};

class Demo {
 public:
  Demo(DemoEncapsulation mode, const DemoOptions& options, PcapngWriter file)
      : mode_(mode),
        sim_(options.seed),
        rng_(sim_.random("demo.macs")),
        file_(std::move(file)),
        worker_{kWorker, kWorkerNode, kWorkerTunnel, virtualbox_mac(rng_), vtep_mac(kWorker),
                dataplane::IpIdentGenerator(sim_.random("user-worker.ip_ident")), {}, {}, {}},
        controller_{kController, kControllerNode, kControllerTunnel, virtualbox_mac(rng_),
                    vtep_mac(kController),
                    dataplane::IpIdentGenerator(sim_.random("user-controller.ip_ident")), {}, {},
                    {}},
        hello_{"default", "hello-776c774f98-894tt", kHelloPod, random_mac(rng_),
               dataplane::IpIdentGenerator(sim_.random("hello.ip_ident")),
               static_cast<std::uint16_t>(sim_.random("hello.ping").next_u32()), {}},
        hi_{"default", "hi", kHiPod, random_mac(rng_),
            dataplane::IpIdentGenerator(sim_.random("hi.ip_ident")),
            static_cast<std::uint16_t>(sim_.random("hi.ping").next_u32()), {}},
        ping_id_(static_cast<std::uint16_t>(sim_.random("hello.ping.id").next_u32())),
        echoes_(options.echoes) {}

  Result<DemoResult> run() {
    if (auto r = add_interfaces(); !r) return std::unexpected(r.error());
    for (int seq = 1; seq <= echoes_; ++seq) {
      sim_.schedule_at(Time::zero() + Duration::seconds(seq - 1), [this, seq] { send_request(seq); });
    }
    sim_.run();
    if (failure_) return std::unexpected(*failure_);
    if (auto r = file_.close(); !r) return std::unexpected(r.error());
    result_.capture = file_.path();
    return std::move(result_);
  }

 private:
  Result<void> add_interfaces() {
    const bool ipip = mode_ == DemoEncapsulation::kIpip;
    const char* tunnel_name = ipip ? "tunl0" : "vxlan.calico";
    const LinkType tunnel_link = ipip ? LinkType::kRawIp : LinkType::kEthernet;
    for (Pod* pod : {&hello_, &hi_}) {
      const char* node = pod == &hello_ ? kWorker : kController;
      auto id = file_.add_interface(fmt::format("{}/{}/eth0", node, pod->name), LinkType::kEthernet);
      if (!id) return std::unexpected(id.error());
      pod->eth0 = *id;
    }
    for (Host* host : {&worker_, &controller_}) {
      const Pod& pod = host == &worker_ ? hello_ : hi_;
      auto cali = file_.add_interface(fmt::format("{}/{}", host->node, cali_name(pod.ns, pod.name)),
                                      LinkType::kEthernet);
      auto tunnel = file_.add_interface(fmt::format("{}/{}", host->node, tunnel_name), tunnel_link);
      auto nic = file_.add_interface(fmt::format("{}/enp0s8", host->node), LinkType::kEthernet);
      if (!cali) return std::unexpected(cali.error());
      if (!tunnel) return std::unexpected(tunnel.error());
      if (!nic) return std::unexpected(nic.error());
      host->cali = *cali;
      host->tunnel = *tunnel;
      host->nic = *nic;
    }
    return {};
  }

  void record(InterfaceId where, Time at, const Packet& p, Direction dir) {
    if (failure_) return;
    if (auto r = file_.write_packet(where, at, p.bytes(), dir); !r) {
      failure_ = r.error();
      return;
    }
    ++result_.packets_written;
  }

  // Where a carried datagram arrived: the time and TTL at the destination pod.
  struct Delivery {
    Time at;
    std::uint8_t ttl;
  };
  std::optional<Delivery> fail(const Error& e) {
    if (!failure_) failure_ = e;
    return std::nullopt;
  }

  static void push_ethernet(Packet& p, MacAddress dst, MacAddress src) {
    EthernetHeader{dst, src, EtherType::kIpv4}.emit(p.push_front(EthernetHeader::kLength));
  }

  // The pod's IPv4 datagram carrying an ICMP echo (iputils ping: 56 data bytes, a struct timeval
  // of the send time, then the bytes 0x10, 0x11, ...).
  Packet echo_datagram(Pod& from, const Pod& to, bool request, std::uint16_t seq,
                       Time sent, std::uint8_t tos) {
    std::array<std::uint8_t, 56> data{};
    const std::int64_t usec = sent.ns() / 1000;
    wire::store_le64(data.data(), static_cast<std::uint64_t>(usec / 1'000'000));
    wire::store_le64(data.data() + 8, static_cast<std::uint64_t>(usec % 1'000'000));
    for (std::size_t i = 16; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i);
    const auto icmp = request ? wire::IcmpMessage::echo_request(ping_id_, seq, data)
                              : wire::IcmpMessage::echo_reply(ping_id_, seq, data);
    wire::Ipv4Header ip;
    ip.tos = tos;
    ip.total_length = static_cast<std::uint16_t>(wire::Ipv4Header::kMinLength + icmp.size());
    ip.ttl = 64;
    ip.protocol = wire::IpProtocol::kIcmp;
    ip.source = from.ip;
    ip.destination = to.ip;
    if (request) {
      // A connected raw socket: DF (PMTU discovery "want"), its own ID counter.
      ip.dont_fragment = true;
      ip.identification = from.socket_ident++;
    } else {
      // The kernel's ICMP reply: DF clear (IP_PMTUDISC_DONT), ID from __ip_select_ident.
      ip.identification = from.ident.next(from.ip, to.ip, 1, sim_.now());
    }
    Packet p = pool_.make(ip.total_length);
    ip.emit(p.bytes());
    icmp.emit(p.bytes().subspan(wire::Ipv4Header::kMinLength));
    return p;
  }

  // Carries a datagram from `src_pod` on `from` to `dst_pod` on `to`, recording it on every
  // interface it crosses; nullopt (with failure_ set) if a step failed.
  std::optional<Delivery> carry(Packet p, Pod& src_pod, Host& from, Pod& dst_pod, Host& to, Time t) {
    push_ethernet(p, kCaliMac, src_pod.mac);
    record(src_pod.eth0, t, p, Direction::kOutbound);
    t += kVethDelay;
    record(from.cali, t, p, Direction::kInbound);
    p.pull_front(EthernetHeader::kLength);
    wire::ipv4_decrement_ttl(p.bytes());  // forwarding on the source node
    t += kForwardDelay;
    if (mode_ == DemoEncapsulation::kIpip) {
      record(from.tunnel, t, p, Direction::kOutbound);
      const auto id = from.ident.next(from.node_ip, to.node_ip, 4, t);
      if (auto r = dataplane::ipip_encapsulate(p, from.node_ip, to.node_ip, id); !r) {
        return fail(r.error());
      }
    } else {
      push_ethernet(p, to.vtep, from.vtep);
      record(from.tunnel, t, p, Direction::kOutbound);
      dataplane::VxlanOuter outer;
      outer.source = from.node_ip;
      outer.destination = to.node_ip;
      outer.source_port = wire::vxlan_source_port(
          wire::flow_hash(src_pod.ip, dst_pod.ip, 1, 0, 0));
      outer.identification = from.ident.next(from.node_ip, to.node_ip, 17, t);
      if (auto r = dataplane::vxlan_encapsulate(p, outer); !r) return fail(r.error());
    }
    push_ethernet(p, to.nic_mac, from.nic_mac);
    record(from.nic, t, p, Direction::kOutbound);
    t += wire_time(p.size());
    record(to.nic, t, p, Direction::kInbound);
    p.pull_front(EthernetHeader::kLength);
    if (mode_ == DemoEncapsulation::kIpip) {
      if (auto r = dataplane::ipip_decapsulate(p); !r) return fail(r.error());
      record(to.tunnel, t, p, Direction::kInbound);
    } else {
      if (auto r = dataplane::vxlan_decapsulate(p); !r) return fail(r.error());
      record(to.tunnel, t, p, Direction::kInbound);
      p.pull_front(EthernetHeader::kLength);
    }
    wire::ipv4_decrement_ttl(p.bytes());  // forwarding on the destination node
    t += kForwardDelay;
    push_ethernet(p, dst_pod.mac, kCaliMac);
    record(to.cali, t, p, Direction::kOutbound);
    t += kVethDelay;
    record(dst_pod.eth0, t, p, Direction::kInbound);
    const std::uint8_t ttl = p.data()[EthernetHeader::kLength + wire::Ipv4View::kTtlOffset];
    return Delivery{t, ttl};
  }

  void send_request(int seq) {
    const Time start = sim_.now();
    Packet request = echo_datagram(hello_, hi_, true, static_cast<std::uint16_t>(seq), start, 0);
    const auto there = carry(std::move(request), hello_, worker_, hi_, controller_, start);
    if (!there) return;
    sim_.schedule_at(there->at + kPodTurnaround, [this, seq, start, ttl = there->ttl] {
      Packet reply = echo_datagram(hi_, hello_, false, static_cast<std::uint16_t>(seq), start, 0);
      const auto back = carry(std::move(reply), hi_, controller_, hello_, worker_, sim_.now());
      if (!back) return;
      result_.lines.push_back(fmt::format(
          "icmp_seq={} {} -> {}: request arrived with ttl={}, reply arrived with ttl={}, "
          "round trip {:.3f} ms",
          seq, hello_.ip, hi_.ip, ttl, back->ttl, (back->at - start).to_milliseconds()));
    });
  }

  DemoEncapsulation mode_;
  Simulator sim_;
  RandomStream rng_;
  wire::PacketPool pool_;
  PcapngWriter file_;
  Host worker_;
  Host controller_;
  Pod hello_;
  Pod hi_;
  std::uint16_t ping_id_;
  int echoes_;
  DemoResult result_;
  std::optional<Error> failure_;
};

}  // namespace

Result<DemoResult> run_encapsulation_demo(DemoEncapsulation mode, const DemoOptions& options) {
  const std::string name = mode == DemoEncapsulation::kIpip ? "lab-ipip" : "lab-vxlan";
  const auto dir = options.out_root / name;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return make_error(Errc::kIo, fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  }
  auto file = PcapngWriter::open(dir / "capture.pcapng", "calisim " CALISIM_VERSION);
  if (!file) return std::unexpected(file.error());
  Demo demo(mode, options, std::move(*file));
  auto result = demo.run();
  if (result) result->name = name;
  return result;
}

}  // namespace calisim::cli
