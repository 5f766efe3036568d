#include <calisim/calico/quantity.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace calisim::calico {
namespace {

std::int64_t ns(std::string_view text) {
  auto d = parse_duration(text);
  EXPECT_TRUE(d.has_value()) << text << ": " << (d ? "" : d.error().message);
  return d ? d->ns() : -1;
}

TEST(QuantityDuration, ParsesGoSyntax) {
  EXPECT_EQ(ns("5s"), 5'000'000'000);
  EXPECT_EQ(ns("100ms"), 100'000'000);
  EXPECT_EQ(ns("1m30s"), 90'000'000'000);
  EXPECT_EQ(ns("1h"), 3'600'000'000'000);
  EXPECT_EQ(ns("1.5h"), 5'400'000'000'000);
  EXPECT_EQ(ns("2h45m10.5s"), (2 * 3600 + 45 * 60) * 1'000'000'000LL + 10'500'000'000);
  EXPECT_EQ(ns("50us"), 50'000);
  EXPECT_EQ(ns("50\xc2\xb5s"), 50'000);  // U+00B5 micro sign, as Go prints it
  EXPECT_EQ(ns("50\xce\xbcs"), 50'000);  // U+03BC Greek mu, which Go also takes
  EXPECT_EQ(ns("7ns"), 7);
  EXPECT_EQ(ns("0"), 0);
  EXPECT_EQ(ns("-0"), 0);
  EXPECT_EQ(ns("+5s"), 5'000'000'000);
  EXPECT_EQ(ns("-1.5s"), -1'500'000'000);
  // Go's forms with a bare point on either side.
  EXPECT_EQ(ns(".5s"), 500'000'000);
  EXPECT_EQ(ns("1.s"), 1'000'000'000);
  // Units may repeat and come in any order, as in Go.
  EXPECT_EQ(ns("1s1s"), 2'000'000'000);
  EXPECT_EQ(ns("1ms1h"), 3'600'001'000'000);
}

TEST(QuantityDuration, FractionsAreExactAndTruncated) {
  EXPECT_EQ(ns("0.3s"), 300'000'000);
  EXPECT_EQ(ns("1.000000001s"), 1'000'000'001);
  EXPECT_EQ(ns("1.0000000019s"), 1'000'000'001);  // below a nanosecond: truncated
  EXPECT_EQ(ns("0.1ns"), 0);
  EXPECT_EQ(ns("1.23456789012345678901234s"), 1'234'567'890);
}

TEST(QuantityDuration, RangeIsInt64Nanoseconds) {
  EXPECT_EQ(ns("9223372036854775807ns"), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(ns("-9223372036854775808ns"), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(ns("2562047h"), 2'562'047LL * 3'600'000'000'000LL);
  for (std::string_view text : {"9223372036854775808ns", "2562048h", "99999999999999999999s",
                                "1h9223372036854775807ns"}) {
    auto d = parse_duration(text);
    ASSERT_FALSE(d.has_value()) << text;
    EXPECT_NE(d.error().message.find("out of range"), std::string::npos) << d.error().message;
  }
}

TEST(QuantityDuration, RejectsMalformedText) {
  for (std::string_view text :
       {"", "-", "+", "s", ".s", ".", "5", "1.5", "5 s", " 5s", "5s ", "5S", "5sec", "1d", "1w",
        "5s3", "--5s", "0x5s", "5..5s", "1e3s", "∞s"}) {
    auto d = parse_duration(text);
    EXPECT_FALSE(d.has_value()) << "accepted \"" << text << "\"";
    if (!d) {
      EXPECT_EQ(d.error().code, Errc::kInvalidArgument) << text;
    }
  }
  EXPECT_EQ(parse_duration("5").error().message,
            "duration \"5\" has no unit (want ns, us, ms, s, m or h, e.g. \"5s\")");
  EXPECT_EQ(parse_duration("1d").error().message,
            "duration \"1d\" has an unknown unit \"d\" (want ns, us, ms, s, m or h)");
  EXPECT_EQ(parse_duration("").error().message,
            "\"\" is not a duration (want e.g. 5s, 100ms, 1m30s)");
}

TEST(QuantityDuration, FormatsAsGoDoes) {
  auto f = [](std::int64_t n) { return format_duration(Duration::nanoseconds(n)); };
  EXPECT_EQ(f(0), "0s");
  EXPECT_EQ(f(1), "1ns");
  EXPECT_EQ(f(999), "999ns");
  EXPECT_EQ(f(1'000), "1\xc2\xb5s");
  EXPECT_EQ(f(1'500), "1.5\xc2\xb5s");
  EXPECT_EQ(f(100'000'000), "100ms");
  EXPECT_EQ(f(1'234'567), "1.234567ms");
  EXPECT_EQ(f(1'000'000'000), "1s");
  EXPECT_EQ(f(90'000'000'000), "1m30s");
  EXPECT_EQ(f(120'000'000'000), "2m0s");
  EXPECT_EQ(f(3'600'000'000'000), "1h0m0s");
  EXPECT_EQ(f(5'400'500'000'000), "1h30m0.5s");
  EXPECT_EQ(f(-2'500'000'000), "-2.5s");
  EXPECT_EQ(f(std::numeric_limits<std::int64_t>::max()), "2562047h47m16.854775807s");
  EXPECT_EQ(f(std::numeric_limits<std::int64_t>::min()), "-2562047h47m16.854775808s");
  // Whatever it prints reads back to the same value.
  for (std::int64_t n : {1LL, 1'500LL, 1'234'567LL, 90'000'000'001LL, -7'200'000'000'000LL}) {
    EXPECT_EQ(parse_duration(f(n))->ns(), n) << f(n);
  }
}

std::int64_t bps(std::string_view text) {
  auto r = parse_rate_bps(text);
  EXPECT_TRUE(r.has_value()) << text << ": " << (r ? "" : r.error().message);
  return r ? *r : -1;
}

TEST(QuantityRate, ParsesTcUnits) {
  EXPECT_EQ(bps("1Gbit"), 1'000'000'000);
  EXPECT_EQ(bps("100Mbit"), 100'000'000);
  EXPECT_EQ(bps("10kbit"), 10'000);
  EXPECT_EQ(bps("10Kbit"), 10'000);  // tc matches units without regard to case
  EXPECT_EQ(bps("64bit"), 64);
  EXPECT_EQ(bps("1tbit"), 1'000'000'000'000);
  EXPECT_EQ(bps("1kibit"), 1'024);
  EXPECT_EQ(bps("1Mibit"), 1'048'576);
  EXPECT_EQ(bps("2gibit"), 2'147'483'648);
  EXPECT_EQ(bps("1.5Mbit"), 1'500'000);
  EXPECT_EQ(bps("0.5kbit"), 500);
}

TEST(QuantityRate, BpsMeansBytesAsInTc) {
  // tc's well-known trap, kept: "bps" is bytes per second.
  EXPECT_EQ(bps("100mbps"), 800'000'000);
  EXPECT_EQ(bps("100MBps"), 800'000'000);
  EXPECT_EQ(bps("1bps"), 8);
  EXPECT_EQ(bps("1KiBps"), 8 * 1024);
  EXPECT_EQ(bps("1gbps"), 8'000'000'000);
}

TEST(QuantityRate, RejectsMalformedText) {
  for (std::string_view text : {"", "Mbit", "100", "1.5", "100 Mbit", "100Mb", "100mbits",
                                "-1Mbit", "100Xbit", "0bit", "0.1bit", "99999999999999999999tbit"}) {
    auto r = parse_rate_bps(text);
    EXPECT_FALSE(r.has_value()) << "accepted \"" << text << "\"";
  }
  EXPECT_EQ(parse_rate_bps("100").error().message,
            "rate \"100\" has no unit (tc would read bit/s; write e.g. \"100Mbit\")");
  EXPECT_EQ(parse_rate_bps("0bit").error().message, "rate \"0bit\" is below 1 bit/s");
}

TEST(QuantityRate, FormatsAsTcPrints) {
  EXPECT_EQ(format_rate(1'000'000'000), "1Gbit");
  EXPECT_EQ(format_rate(100'000'000), "100Mbit");
  EXPECT_EQ(format_rate(1'500'000), "1500Kbit");
  EXPECT_EQ(format_rate(10'000), "10Kbit");
  EXPECT_EQ(format_rate(999), "999bit");
  EXPECT_EQ(format_rate(1'024), "1024bit");
  EXPECT_EQ(format_rate(2'000'000'000'000), "2Tbit");
  EXPECT_EQ(format_rate(1'500'500), "1500Kbit");  // tc's truncation, kept
  EXPECT_EQ(bps(format_rate(100'000'000)), 100'000'000);
}

TEST(QuantityPercentage, ParsesNetemPercentages) {
  EXPECT_DOUBLE_EQ(*parse_percentage("1%"), 0.01);
  EXPECT_DOUBLE_EQ(*parse_percentage("0%"), 0.0);
  EXPECT_DOUBLE_EQ(*parse_percentage("100%"), 1.0);
  EXPECT_DOUBLE_EQ(*parse_percentage("0.25%"), 0.0025);
  EXPECT_DOUBLE_EQ(*parse_percentage(".5%"), 0.005);
  EXPECT_DOUBLE_EQ(*parse_percentage("100.0%"), 1.0);
  for (std::string_view text : {"", "%", "1", "0.01", "1 %", "-1%", "100.5%", "101%", "1%%", "x%"}) {
    EXPECT_FALSE(parse_percentage(text).has_value()) << "accepted \"" << text << "\"";
  }
  EXPECT_EQ(parse_percentage("101%").error().message, "percentage \"101%\" is above 100%");
}

TEST(QuantityByteSize, ParsesCountsAndUnits) {
  EXPECT_EQ(*parse_byte_size("1500"), 1500u);
  EXPECT_EQ(*parse_byte_size("0"), 0u);
  EXPECT_EQ(*parse_byte_size("1500B"), 1500u);
  EXPECT_EQ(*parse_byte_size("64KiB"), 65'536u);
  EXPECT_EQ(*parse_byte_size("64kB"), 64'000u);
  EXPECT_EQ(*parse_byte_size("64KB"), 64'000u);
  EXPECT_EQ(*parse_byte_size("10MB"), 10'000'000u);
  EXPECT_EQ(*parse_byte_size("10MiB"), 10'485'760u);
  EXPECT_EQ(*parse_byte_size("1.5KiB"), 1'536u);
  EXPECT_EQ(*parse_byte_size("2GiB"), 2'147'483'648u);
  EXPECT_EQ(*parse_byte_size("1TiB"), 1'099'511'627'776u);
  for (std::string_view text : {"", "B", "1.5", "1.5B", "10mb", "10 MB", "-1", "1.0000001KB", "1XB"}) {
    EXPECT_FALSE(parse_byte_size(text).has_value()) << "accepted \"" << text << "\"";
  }
  EXPECT_EQ(parse_byte_size("1.5B").error().message, "size \"1.5B\" is not a whole number of bytes");
}

}  // namespace
}  // namespace calisim::calico
