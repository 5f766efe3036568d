// BGP UPDATE encode and decode rates for a full table push: 100,000 prefixes with one set of
// attributes (what a Calico node sends a new peer), packed as many to a 4096-byte UPDATE as fit,
// as BIRD does. Items are prefixes, so items_per_second is prefixes/s.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include <calisim/wire/bgp.hpp>

namespace {

using namespace calisim;
using namespace calisim::wire;

constexpr std::size_t kPrefixes = 100'000;

// /26 blocks of 10.0.0.0/8, every fourth a /32 (a borrowed pod address), as Calico exports.
std::vector<Ipv4Prefix> table() {
  std::vector<Ipv4Prefix> out;
  out.reserve(kPrefixes);
  for (std::size_t i = 0; i < kPrefixes; ++i) {
    out.emplace_back(Ipv4Address(static_cast<std::uint32_t>(0x0a000000u + (i << 6))),
                     i % 4 == 3 ? 32 : 26);
  }
  return out;
}

bgp::PathAttributes calico_attributes() {
  bgp::PathAttributes a;
  a.origin = bgp::Origin::kIgp;
  a.as_path = bgp::AsPath{};
  a.next_hop = Ipv4Address(192, 168, 56, 10);
  a.local_pref = 100;
  a.communities = {bgp::community(64512, 100)};
  return a;
}

std::vector<std::uint8_t> encoded_table(std::size_t* messages = nullptr) {
  std::vector<std::uint8_t> out;
  const auto n = bgp::encode_updates(table(), calico_attributes(), {}, out);
  if (!n) std::abort();
  if (messages != nullptr) *messages = *n;
  return out;
}

void BM_BgpEncodeUpdates100k(benchmark::State& state) {
  const auto prefixes = table();
  const auto attrs = calico_attributes();
  std::vector<std::uint8_t> out;
  std::size_t messages = 0;
  for (auto _ : state) {
    out.clear();  // capacity stays: no allocation after the first round
    messages = bgp::encode_updates(prefixes, attrs, {}, out).value_or(0);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPrefixes));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * out.size()));
  state.counters["messages"] = static_cast<double>(messages);
}
BENCHMARK(BM_BgpEncodeUpdates100k)->Unit(benchmark::kMillisecond);

// Decode every UPDATE and walk its NLRI (the view yields prefixes without allocating).
void BM_BgpDecodeUpdates100k(benchmark::State& state) {
  const auto stream = encoded_table();
  std::uint64_t checksum = 0;
  for (auto _ : state) {
    std::size_t count = 0;
    for (std::size_t at = 0; at < stream.size();) {
      const std::size_t length = load_be16(stream.data() + at + bgp::kMarkerLength);
      const auto r = bgp::decode_update(Bytes(stream).subspan(at, length), {});
      if (r.notification) std::abort();
      for (const Ipv4Prefix& p : r.update.nlri) {
        checksum += p.address().value() + p.length();
        ++count;
      }
      at += length;
    }
    if (count != kPrefixes) std::abort();
    benchmark::DoNotOptimize(checksum);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPrefixes));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
}
BENCHMARK(BM_BgpDecodeUpdates100k)->Unit(benchmark::kMillisecond);

// What a session does with the bytes TCP hands it: 64 KiB chunks through the framer, then
// decode_message on each message.
void BM_BgpFrameAndDecode100k(benchmark::State& state) {
  const auto stream = encoded_table();
  constexpr std::size_t kChunk = 64 * 1024;
  std::uint64_t checksum = 0;
  for (auto _ : state) {
    bgp::MessageFramer framer;
    std::size_t count = 0;
    for (std::size_t at = 0; at < stream.size(); at += kChunk) {
      framer.push(Bytes(stream).subspan(at, std::min(kChunk, stream.size() - at)));
      while (true) {
        auto next = framer.next();
        if (!next) std::abort();
        if (!*next) break;
        auto m = bgp::decode_message(**next);
        if (!m) std::abort();
        for (const Ipv4Prefix& p : std::get<bgp::DecodedUpdate>(*m).nlri) {
          checksum += p.address().value();
          ++count;
        }
      }
    }
    if (count != kPrefixes) std::abort();
    benchmark::DoNotOptimize(checksum);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPrefixes));
}
BENCHMARK(BM_BgpFrameAndDecode100k)->Unit(benchmark::kMillisecond);

// One small UPDATE (one /26 with Calico's attributes), encode and decode: the per-message cost.
void BM_BgpEncodeOneUpdate(benchmark::State& state) {
  const auto attrs = calico_attributes();
  const Ipv4Prefix block(Ipv4Address(10, 244, 1, 0), 26);
  std::vector<std::uint8_t> out;
  for (auto _ : state) {
    out.clear();
    benchmark::DoNotOptimize(bgp::encode_update({}, attrs, std::span(&block, 1), {}, out));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_BgpEncodeOneUpdate);

void BM_BgpDecodeOneUpdate(benchmark::State& state) {
  const Ipv4Prefix block(Ipv4Address(10, 244, 1, 0), 26);
  std::vector<std::uint8_t> message;
  if (!bgp::encode_update({}, calico_attributes(), std::span(&block, 1), {}, message)) std::abort();
  for (auto _ : state) {
    auto r = bgp::decode_update(message, {});
    benchmark::DoNotOptimize(r.update.nlri.size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_BgpDecodeOneUpdate);

}  // namespace
