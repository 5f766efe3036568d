#include <calisim/wire/checksum.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "test_util.hpp"

namespace calisim::wire {
namespace {

using test::hex;

// The plainest reading of RFC 1071 §4.1: 16-bit big-endian words, odd byte padded with zero,
// carries folded at the end. The optimised checksum_accumulate must agree with it.
std::uint16_t reference_checksum(const std::vector<std::uint8_t>& data) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < data.size(); i += 2) {
    const std::uint32_t hi = data[i];
    const std::uint32_t lo = i + 1 < data.size() ? data[i + 1] : 0;
    sum += (hi << 8) | lo;
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

std::vector<std::uint8_t> pseudo_random_bytes(std::size_t n, std::uint32_t seed) {
  std::vector<std::uint8_t> out(n);
  for (auto& b : out) {
    seed = seed * 1664525u + 1013904223u;
    b = static_cast<std::uint8_t>(seed >> 24);
  }
  return out;
}

TEST(Checksum, Rfc1071Section3Example) {
  // RFC 1071 §3 "Numerical Examples": bytes 00 01 f2 03 f4 f5 f6 f7 sum to 2ddf0, which folds to
  // ddf2; the checksum is its complement 220d.
  const auto data = hex("00 01 f2 03 f4 f5 f6 f7");
  EXPECT_EQ(checksum_accumulate(0, data), 0xddf2u);
  EXPECT_EQ(internet_checksum(data), 0x220d);
}

TEST(Checksum, Rfc1071ByteOrderIndependence) {
  // RFC 1071 §2(B): summing byte-swapped words gives the byte-swapped sum (f2dd in §3).
  const auto swapped = hex("01 00 03 f2 f5 f4 f7 f6");
  EXPECT_EQ(checksum_accumulate(0, swapped), 0xf2ddu);
}

TEST(Checksum, Rfc1071IncrementalSumsInPieces) {
  // RFC 1071 §2(C): the sum may be built from pieces (of even length, but the last).
  const auto data = hex("00 01 f2 03 f4 f5 f6 f7");
  std::uint32_t sum = checksum_accumulate(0, Bytes(data).first(2));
  sum = checksum_accumulate(sum, Bytes(data).subspan(2, 4));
  sum = checksum_accumulate(sum, Bytes(data).subspan(6));
  EXPECT_EQ(checksum_finish(sum), 0x220d);
}

TEST(Checksum, OddLengthPadsTheLastByteWithZero) {
  EXPECT_EQ(internet_checksum(hex("01")), 0xfeff);                    // ~0x0100
  EXPECT_EQ(internet_checksum(hex("00 01 f2")), 0x0dfe);              // ~(0x0001 + 0xf200)
  EXPECT_EQ(internet_checksum(hex("00 01 f2 00")), 0x0dfe);           // the same, padded by hand
  EXPECT_EQ(internet_checksum(std::vector<std::uint8_t>{}), 0xffff);  // ~0
}

TEST(Checksum, AgreesWithTheReferenceForManyLengths) {
  for (std::size_t n = 0; n <= 130; ++n) {
    const auto data = pseudo_random_bytes(n, static_cast<std::uint32_t>(n) + 7);
    EXPECT_EQ(internet_checksum(data), reference_checksum(data)) << n;
  }
  // All ones: the sum of any number of 0xffff words is 0xffff ("-0"), so the checksum is 0.
  const std::vector<std::uint8_t> ones(1500, 0xff);
  EXPECT_EQ(internet_checksum(ones), 0x0000);
  EXPECT_EQ(reference_checksum(ones), 0x0000);
  // A 64 KiB datagram of large words: carries well past 16 bits before the fold.
  const auto big = pseudo_random_bytes(65535, 99);
  EXPECT_EQ(internet_checksum(big), reference_checksum(big));
}

TEST(Checksum, FinishFoldsCarriesAndComplements) {
  EXPECT_EQ(checksum_finish(0), 0xffff);
  EXPECT_EQ(checksum_finish(0xffff), 0x0000);
  EXPECT_EQ(checksum_finish(0x0001ffff), 0xfffe);  // 0xffff + 1 = 0x10000 -> 0x0001
  EXPECT_EQ(checksum_finish(0xffffffff), 0x0000);  // 0xffff + 0xffff -> 0x1fffe -> 0xffff
  EXPECT_EQ(checksum_finish(0x2ddf0), 0x220d);
}

TEST(Checksum, CapturedHeaderVerifiesToZero) {
  // An IPv4 header captured from Linux 6.18 (ping in a netns, 2026-11-26): summed with its own
  // checksum it gives 0xffff, so the complement is 0 (RFC 1071 §1 step 3).
  const auto header = hex("45 00 00 34 0a e5 40 00 40 01 1b 1c 0a 63 00 02 0a 63 00 01");
  EXPECT_EQ(checksum_accumulate(0, header), 0xffffu);
  EXPECT_EQ(internet_checksum(header), 0x0000);
}

TEST(Checksum, PseudoHeaderMatchesLinuxPartialChecksum) {
  // A UDP datagram 10.99.0.2:54514 -> 10.99.0.1:33434 with 11 bytes of data, captured from
  // Linux 6.18 on a veth in a netns (2026-11-26). With checksum offload (CHECKSUM_PARTIAL) the
  // kernel leaves the folded, uncomplemented pseudo-header sum in the checksum field (0x14ed)
  // for the "hardware" to finish; tcpdump reports the correct value as 0xfdab.
  const auto udp = hex("d4 f2 82 9a 00 13 14 ed 63 61 6c 69 73 69 6d 2d 75 64 70");
  const Ipv4Address src(10, 99, 0, 2);
  const Ipv4Address dst(10, 99, 0, 1);
  const std::uint32_t pseudo = pseudo_header_sum(src, dst, 17, 19);
  EXPECT_EQ(static_cast<std::uint16_t>(~checksum_finish(pseudo)), 0x14ed);

  std::vector<std::uint8_t> zeroed = udp;
  zeroed[6] = zeroed[7] = 0;
  EXPECT_EQ(checksum_finish(checksum_accumulate(pseudo, zeroed)), 0xfdab);
  // Finishing what the kernel left (sum over the data with the partial value in place) gives
  // the same answer: that is exactly what a NIC does with CHECKSUM_PARTIAL.
  EXPECT_EQ(checksum_finish(checksum_accumulate(0, udp)), 0xfdab);
}

TEST(ChecksumAdjust, Rfc1624Section4Example) {
  // RFC 1624 §4: the other header words sum to 0xcd7a; a word changes from 0x5555 to 0x3285.
  // HC = ~(0xcd7a + 0x5555) = 0xdd2f. Recomputing gives ~(0xcd7a + 0x3285) = ~0xffff = 0x0000;
  // eqn. 2 (HC - ~m - m') would give 0xffff, the "-0" that eqn. 3 avoids.
  EXPECT_EQ(checksum_finish(0xcd7a + 0x5555), 0xdd2f);
  EXPECT_EQ(checksum_finish(0xcd7a + 0x3285), 0x0000);
  EXPECT_EQ(checksum_adjust(0xdd2f, 0x5555, 0x3285), 0x0000);
  // And back again.
  EXPECT_EQ(checksum_adjust(0x0000, 0x3285, 0x5555), 0xdd2f);
}

TEST(ChecksumAdjust, EqualsFullRecomputeForAnySingleWordChange) {
  auto data = pseudo_random_bytes(40, 5);
  for (int round = 0; round < 2000; ++round) {
    const std::size_t word = static_cast<std::size_t>(round) % 20;
    const std::uint16_t before = internet_checksum(data);
    const std::uint16_t old_word = load_be16(data.data() + 2 * word);
    const std::uint16_t new_word = static_cast<std::uint16_t>(round * 40503u);
    store_be16(data.data() + 2 * word, new_word);
    EXPECT_EQ(checksum_adjust(before, old_word, new_word), internet_checksum(data))
        << "round " << round;
  }
}

}  // namespace
}  // namespace calisim::wire
