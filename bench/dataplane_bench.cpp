// Forwarding through the whole host stack, the path Calico's IPIP mode gives pod-to-pod
// traffic: pod eth0 -> cali veth -> host A routing -> tunl0 (encapsulate) -> enp0s8 -> segment
// -> host B enp0s8 -> tunl0 (decapsulate) -> routing -> cali veth -> pod eth0, and the echo
// reply back. Each one-way trip is four device transmissions ("packet-hops"); figures are
// reported per second of CPU, with captures off and with every device captured to a pcapng.

#include <unistd.h>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <array>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <calisim/capture/capture_set.hpp>
#include <calisim/dataplane/capture_tap.hpp>
#include <calisim/dataplane/namespace.hpp>
#include <calisim/dataplane/segment.hpp>
#include <calisim/dataplane/tunnel.hpp>
#include <calisim/dataplane/veth.hpp>
#include <calisim/wire/icmp.hpp>

namespace {

using namespace calisim;
using namespace calisim::dataplane;
using wire::Ipv4Address;
using wire::Ipv4Prefix;
using wire::MacAddress;

Ipv4Prefix pfx(const char* t) {
  return *Ipv4Prefix::parse(t);
}
Ipv4Address ip(const char* t) {
  return *Ipv4Address::parse(t);
}

struct Lab {
  Simulator sim{1};
  wire::PacketPool pool;
  Segment segment{sim, "lan"};
  std::vector<std::unique_ptr<Namespace>> ns;
  Namespace* pod_a = nullptr;

  Namespace& make(const char* name) {
    ns.push_back(std::make_unique<Namespace>(sim, pool, name));
    return *ns.back();
  }
  void node(const char* name, const char* node_ip, const char* pod_ip, const char* block,
            const char* other_block, const char* other_node, std::uint8_t id) {
    Namespace& host = make(name);
    host.set_ip_forward(true);
    host.add_device<EthernetPort>("enp0s8", MacAddress({8, 0, 0x27, 0, 0, id}), segment);
    (void)host.add_address("enp0s8", pfx(node_ip));
    (void)host.set_up("enp0s8", true);
    // A default route, without which proxy ARP never answers for 169.254.1.1 (calico#3270).
    Route def_host;
    def_host.destination = pfx("0.0.0.0/0");
    def_host.gateway = ip("192.168.56.1");
    def_host.ifindex = host.device("enp0s8")->ifindex();
    (void)host.fib().add_route(def_host);
    host.add_device<IpipTunnel>();
    (void)host.set_up("tunl0", true);
    Namespace& pod = make("pod");
    Veth::create(host, "cali0123456789a", MacAddress({0xee, 0xee, 0xee, 0xee, 0xee, 0xee}), pod,
                 "eth0", MacAddress({0x0e, 0, 0, 0, 0, id}));
    host.conf("cali0123456789a").proxy_arp = true;
    host.conf("cali0123456789a").proxy_delay_centis = 0;
    (void)host.set_up("cali0123456789a", true);
    (void)pod.add_address("eth0", pfx(pod_ip));
    (void)pod.set_up("eth0", true);
    Route r;
    r.destination = Ipv4Prefix(pfx(pod_ip).address(), 32);
    r.ifindex = host.device("cali0123456789a")->ifindex();
    r.scope = RouteScope::kLink;
    (void)host.fib().add_route(r);
    Route remote;
    remote.destination = pfx(other_block);
    remote.gateway = ip(other_node);
    remote.ifindex = host.device("tunl0")->ifindex();
    remote.onlink = true;
    (void)host.fib().add_route(remote);
    Route hole;
    hole.destination = pfx(block);
    hole.type = RouteType::kBlackhole;
    (void)host.fib().add_route(hole);
    Route gw;
    gw.destination = pfx("169.254.1.1/32");
    gw.ifindex = pod.device("eth0")->ifindex();
    gw.scope = RouteScope::kLink;
    (void)pod.fib().add_route(gw);
    Route def;
    def.destination = pfx("0.0.0.0/0");
    def.gateway = ip("169.254.1.1");
    def.ifindex = pod.device("eth0")->ifindex();
    (void)pod.fib().add_route(def);
    if (pod_a == nullptr) pod_a = &pod;
  }
  Lab() {
    node("node-a", "192.168.56.10/24", "10.244.1.5/32", "10.244.1.0/26", "10.244.2.0/26",
         "192.168.56.11", 0x0a);
    node("node-b", "192.168.56.11/24", "10.244.2.7/32", "10.244.2.0/26", "10.244.1.0/26",
         "192.168.56.10", 0x0b);
  }
  ~Lab() { ns.clear(); }

  const Ipv4Address pod_a_ip = ip("10.244.1.5");
  const Ipv4Address pod_b_ip = ip("10.244.2.7");

  void echo(std::uint16_t seq) {
    static const std::array<std::uint8_t, 56> data{};
    const auto icmp = wire::IcmpMessage::echo_request(7, seq, data);
    wire::Ipv4Header h;
    h.total_length = static_cast<std::uint16_t>(20 + icmp.size());
    h.dont_fragment = true;
    h.protocol = wire::IpProtocol::kIcmp;
    h.source = pod_a_ip;
    h.destination = pod_b_ip;
    h.identification = seq;
    wire::Packet p = pool.make(h.total_length);
    h.emit(p.bytes());
    icmp.emit(p.bytes().subspan(20));
    (void)pod_a->send(std::move(p));
  }
};

enum class CaptureTo { kOff, kDevNull, kFile };

void run_echoes(benchmark::State& state, CaptureTo capture_to) {
  Lab lab;
  std::optional<capture::CaptureSet> cap;
  std::optional<CaptureTap> tap;
  std::filesystem::path file;
  if (capture_to != CaptureTo::kOff) {
    capture::CaptureOptions o;
    // /dev/null measures the capture layer itself (tap, pcapng encoding, buffering, the writer
    // thread's syscalls); a file adds the kernel's page-cache copy, on tmpfs where there is one
    // so that a disk does not set the figure. The file is removed afterwards: runs write GBs.
    if (capture_to == CaptureTo::kDevNull) {
      o.pcapng_path = "/dev/null";
    } else {
      const std::filesystem::path dir =
          std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
      file = dir / fmt::format("calisim-bench-forwarding-{}.pcapng", ::getpid());
      o.pcapng_path = file;
    }
    cap.emplace(std::move(*capture::CaptureSet::open(o)));
    tap.emplace(*cap);
    for (auto& n : lab.ns) tap->attach(*n);
  }
  std::uint64_t replies = 0;
  lab.pod_a->add_protocol_handler(1, [&replies](const wire::Ipv4View&, Time) { ++replies; });
  // Warm up: ARP and proxy ARP resolved, buffers pooled.
  lab.echo(0);
  lab.sim.run_until(lab.sim.now() + Duration::seconds(1));
  std::uint16_t seq = 1;
  constexpr int kBatch = 256;
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) lab.echo(seq++);
    lab.sim.run_until(lab.sim.now() + Duration::milliseconds(10));
  }
  // Each echo: a request and a reply, four device transmissions each.
  state.counters["packets/s"] =
      benchmark::Counter(static_cast<double>(replies) * 2, benchmark::Counter::kIsRate);
  state.counters["packet-hops/s"] =
      benchmark::Counter(static_cast<double>(replies) * 2 * 4, benchmark::Counter::kIsRate);
  // Every request must have come back, or the figures measure drops: any drop shows as a
  // counter named after its reason.
  for (std::size_t r = 0; r < kDropReasonCount; ++r) {
    std::uint64_t n = 0;
    for (auto& x : lab.ns) n += x->drops(static_cast<DropReason>(r));
    if (n != 0)
      state.counters[std::string(to_string(static_cast<DropReason>(r)))] = static_cast<double>(n);
  }
  if (cap) (void)cap->close();
  if (!file.empty()) std::filesystem::remove(file);
}

// Each runs twice. "/real_time": rates over wall-clock time. "/process_time": rates over the CPU
// time of every thread of the process, the pcapng writer thread's included, which is the
// per-core figure the capture-cost target means (in real time a second core hides the
// writer's work). The capture cost is 1 - On/Off of the process_time packet-hops/s.
void BM_IpipPodToPodCapturesOff(benchmark::State& state) {
  run_echoes(state, CaptureTo::kOff);
}
BENCHMARK(BM_IpipPodToPodCapturesOff)->UseRealTime();
BENCHMARK(BM_IpipPodToPodCapturesOff)->MeasureProcessCPUTime();

void BM_IpipPodToPodCapturesOn(benchmark::State& state) {
  run_echoes(state, CaptureTo::kDevNull);
}
BENCHMARK(BM_IpipPodToPodCapturesOn)->UseRealTime();
BENCHMARK(BM_IpipPodToPodCapturesOn)->MeasureProcessCPUTime();

void BM_IpipPodToPodCapturesToTmpfs(benchmark::State& state) {
  run_echoes(state, CaptureTo::kFile);
}
BENCHMARK(BM_IpipPodToPodCapturesToTmpfs)->UseRealTime();
BENCHMARK(BM_IpipPodToPodCapturesToTmpfs)->MeasureProcessCPUTime();

}  // namespace
