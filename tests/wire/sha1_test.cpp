#include <calisim/wire/sha1.hpp>

#include <gtest/gtest.h>

#include <string>

namespace calisim::wire {
namespace {

TEST(Sha1, FipsExamples) {
  // FIPS 180-2 Appendix A test vectors.
  EXPECT_EQ(to_hex(sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(to_hex(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(to_hex(sha1(std::string(1000000, 'a'))), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
  EXPECT_EQ(to_hex(sha1("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

TEST(Sha1, PaddingBoundaries) {
  // Lengths around the 55/56/64-byte padding edges, against values from Python's hashlib.
  EXPECT_EQ(to_hex(sha1(std::string(55, 'x'))), "cef734ba81a024479e09eb5a75b6ddae62e6abf1");
  EXPECT_EQ(to_hex(sha1(std::string(56, 'x'))), "901305367c259952f4e7af8323f480d59f81335b");
  EXPECT_EQ(to_hex(sha1(std::string(64, 'x'))), "bb2fa3ee7afb9f54c6dfb5d021f14b1ffe40c163");
}

TEST(Sha1, CalicoVethNameVector) {
  // libcalico-go conversion_test.go: VethNameForWorkload("namespace", "podname") with prefix
  // "eni" is "eni82111e10a96": the first 11 hex digits of sha1("namespace.podname").
  EXPECT_EQ(to_hex(sha1("namespace.podname")).substr(0, 11), "82111e10a96");
}

}  // namespace
}  // namespace calisim::wire
