#include <calisim/calico/quantity.hpp>

#include <array>
#include <cstdint>
#include <limits>
#include <optional>

#include <fmt/format.h>

namespace calisim::calico {
namespace {

__extension__ using U128 = unsigned __int128;

constexpr std::uint64_t kMaxFractionScale = 1'000'000'000'000'000'000ULL;  // 18 digits kept
constexpr U128 kInt64Max = static_cast<U128>(std::numeric_limits<std::int64_t>::max());

bool is_digit(char c) { return c >= '0' && c <= '9'; }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// A decimal number as written, [0-9]*(\.[0-9]*)? with at least one digit, kept exact: the value
// is whole + fraction / fraction_scale. Fraction digits past the 18th are dropped (truncation,
// as Go's ParseDuration does once its fraction would overflow).
struct Decimal {
  std::uint64_t whole = 0;
  std::uint64_t fraction = 0;
  std::uint64_t fraction_scale = 1;
  bool overflow = false;   // the whole part does not fit 64 bits
  std::size_t length = 0;  // characters consumed

  // value × unit, exact in the whole part, truncated in the fraction.
  U128 times(std::uint64_t unit) const {
    return static_cast<U128>(whole) * unit + static_cast<U128>(fraction) * unit / fraction_scale;
  }
  bool fraction_exact(std::uint64_t unit) const {
    return (static_cast<U128>(fraction) * unit) % fraction_scale == 0;
  }
};

std::optional<Decimal> scan_decimal(std::string_view s) {
  Decimal d;
  std::size_t i = 0;
  bool digits = false;
  for (; i < s.size() && is_digit(s[i]); ++i) {
    digits = true;
    const auto v = static_cast<std::uint64_t>(s[i] - '0');
    if (d.whole > (std::numeric_limits<std::uint64_t>::max() - v) / 10) {
      d.overflow = true;
    } else {
      d.whole = d.whole * 10 + v;
    }
  }
  if (i < s.size() && s[i] == '.') {
    for (++i; i < s.size() && is_digit(s[i]); ++i) {
      digits = true;
      if (d.fraction_scale < kMaxFractionScale) {
        d.fraction = d.fraction * 10 + static_cast<std::uint64_t>(s[i] - '0');
        d.fraction_scale *= 10;
      }
    }
  }
  if (!digits) return std::nullopt;
  d.length = i;
  return d;
}

struct Unit {
  std::string_view name;
  std::uint64_t scale;
};

// Go's unitMap (time/format.go).
constexpr std::array<Unit, 8> kDurationUnits{{
    {"ns", 1},
    {"us", 1'000},
    {"\xc2\xb5s", 1'000},  // U+00B5 micro sign
    {"\xce\xbcs", 1'000},  // U+03BC Greek small letter mu
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
}};

// iproute2's rate suffixes, in bits per second.
constexpr std::uint64_t kKi = 1024;
constexpr std::array<Unit, 18> kRateUnits{{
    {"bit", 1},
    {"kibit", kKi},
    {"kbit", 1'000},
    {"mibit", kKi * kKi},
    {"mbit", 1'000'000},
    {"gibit", kKi * kKi * kKi},
    {"gbit", 1'000'000'000},
    {"tibit", kKi * kKi * kKi * kKi},
    {"tbit", 1'000'000'000'000},
    {"bps", 8},
    {"kibps", 8 * kKi},
    {"kbps", 8'000},
    {"mibps", 8 * kKi * kKi},
    {"mbps", 8'000'000},
    {"gibps", 8 * kKi * kKi * kKi},
    {"gbps", 8'000'000'000},
    {"tibps", 8 * kKi * kKi * kKi * kKi},
    {"tbps", 8'000'000'000'000},
}};

constexpr std::array<Unit, 10> kByteUnits{{
    {"B", 1},
    {"kB", 1'000},
    {"KB", 1'000},
    {"KiB", kKi},
    {"MB", 1'000'000},
    {"MiB", kKi * kKi},
    {"GB", 1'000'000'000},
    {"GiB", kKi * kKi * kKi},
    {"TB", 1'000'000'000'000},
    {"TiB", kKi * kKi * kKi * kKi},
}};

std::unexpected<Error> bad(std::string message) {
  return make_error(Errc::kInvalidArgument, std::move(message));
}

// Go's fmtFrac: the lowest `digits` decimal digits of v as ".ddd" without trailing zeros
// (nothing when they are all zero); returns v with those digits removed.
std::uint64_t append_fraction(std::string& out, std::uint64_t v, int digits) {
  std::string frac;
  bool printing = false;
  for (int i = 0; i < digits; ++i) {
    const auto digit = static_cast<char>('0' + v % 10);
    printing = printing || digit != '0';
    if (printing) frac.insert(frac.begin(), digit);
    v /= 10;
  }
  if (printing) out += "." + frac;
  return v;
}

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration::zero();
  if (s.empty()) return bad(fmt::format("\"{}\" is not a duration (want e.g. 5s, 100ms, 1m30s)", text));

  U128 total = 0;
  const U128 limit = negative ? kInt64Max + 1 : kInt64Max;
  while (!s.empty()) {
    const auto number = scan_decimal(s);
    if (!number) {
      return bad(fmt::format("\"{}\" is not a duration (want e.g. 5s, 100ms, 1m30s)", text));
    }
    if (number->overflow) return bad(fmt::format("duration \"{}\" is out of range", text));
    s.remove_prefix(number->length);
    std::size_t unit_length = 0;
    while (unit_length < s.size() && s[unit_length] != '.' && !is_digit(s[unit_length])) {
      ++unit_length;
    }
    if (unit_length == 0) {
      return bad(fmt::format("duration \"{}\" has no unit (want ns, us, ms, s, m or h, e.g. \"{}s\")",
                             text, text));
    }
    const std::string_view unit_name = s.substr(0, unit_length);
    const Unit* unit = nullptr;
    for (const auto& u : kDurationUnits) {
      if (u.name == unit_name) unit = &u;
    }
    if (unit == nullptr) {
      return bad(fmt::format("duration \"{}\" has an unknown unit \"{}\" (want ns, us, ms, s, m or h)",
                             text, unit_name));
    }
    s.remove_prefix(unit_length);
    total += number->times(unit->scale);
    if (total > limit) return bad(fmt::format("duration \"{}\" is out of range", text));
  }
  if (negative) {
    // -(2^63) is representable; build it without overflowing the positive side.
    if (total == kInt64Max + 1) return Duration::nanoseconds(std::numeric_limits<std::int64_t>::min());
    return Duration::nanoseconds(-static_cast<std::int64_t>(total));
  }
  return Duration::nanoseconds(static_cast<std::int64_t>(total));
}

std::string format_duration(Duration d) {
  const std::int64_t ns = d.ns();
  if (ns == 0) return "0s";
  const bool negative = ns < 0;
  std::uint64_t u = negative ? 0 - static_cast<std::uint64_t>(ns) : static_cast<std::uint64_t>(ns);
  std::string out;
  if (u < 1'000'000'000) {
    // Below one second Go picks the largest unit that keeps a non-zero whole part.
    std::string unit;
    int digits = 0;
    if (u < 1'000) {
      unit = "ns";
    } else if (u < 1'000'000) {
      unit = "\xc2\xb5s";
      digits = 3;
    } else {
      unit = "ms";
      digits = 6;
    }
    std::string frac;
    const std::uint64_t whole = append_fraction(frac, u, digits);
    out = fmt::format("{}{}{}", whole, frac, unit);
  } else {
    std::string frac;
    u = append_fraction(frac, u, 9);  // now whole seconds
    out = fmt::format("{}{}s", u % 60, frac);
    u /= 60;  // whole minutes
    if (u > 0) {
      out = fmt::format("{}m{}", u % 60, out);
      u /= 60;  // whole hours: Go stops here, days vary in length
      if (u > 0) out = fmt::format("{}h{}", u, out);
    }
  }
  return negative ? "-" + out : out;
}

Result<std::int64_t> parse_rate_bps(std::string_view text) {
  const auto number = scan_decimal(text);
  if (!number) return bad(fmt::format("\"{}\" is not a rate (want e.g. 100Mbit, 1Gbit, 10kbit)", text));
  const std::string_view unit_name = text.substr(number->length);
  if (unit_name.empty()) {
    return bad(fmt::format("rate \"{}\" has no unit (tc would read bit/s; write e.g. \"{}Mbit\")",
                           text, text));
  }
  const Unit* unit = nullptr;
  for (const auto& u : kRateUnits) {
    if (equal_ignoring_case(u.name, unit_name)) unit = &u;
  }
  if (unit == nullptr) {
    return bad(fmt::format("rate \"{}\" has an unknown unit \"{}\" (want bit, kbit, mbit, gbit, "
                           "tbit, kibit..., or bps, kbps, ... for bytes per second)",
                           text, unit_name));
  }
  if (number->overflow) return bad(fmt::format("rate \"{}\" is out of range", text));
  const U128 bps = number->times(unit->scale);
  if (bps > kInt64Max) return bad(fmt::format("rate \"{}\" is out of range", text));
  if (bps == 0) return bad(fmt::format("rate \"{}\" is below 1 bit/s", text));
  return static_cast<std::int64_t>(bps);
}

std::string format_rate(std::int64_t bps) {
  static constexpr std::array<std::string_view, 5> kPrefixes{"", "K", "M", "G", "T"};
  auto rate = static_cast<std::uint64_t>(bps < 0 ? 0 : bps);
  std::size_t i = 0;
  for (; i + 1 < kPrefixes.size(); ++i) {
    if (rate < 1000) break;
    if (rate % 1000 != 0 && rate < 1000 * 1000) break;
    rate /= 1000;
  }
  return fmt::format("{}{}bit", rate, kPrefixes[i]);
}

Result<double> parse_percentage(std::string_view text) {
  const auto number = scan_decimal(text);
  if (!number || number->length + 1 != text.size() || text.back() != '%') {
    return bad(fmt::format("\"{}\" is not a percentage (want e.g. 1%, 0.5%)", text));
  }
  if (number->overflow || number->whole > 100 || (number->whole == 100 && number->fraction != 0)) {
    return bad(fmt::format("percentage \"{}\" is above 100%", text));
  }
  const double percent = static_cast<double>(number->whole) +
                         static_cast<double>(number->fraction) /
                             static_cast<double>(number->fraction_scale);
  return percent / 100.0;
}

Result<std::uint64_t> parse_byte_size(std::string_view text) {
  const auto number = scan_decimal(text);
  if (!number) return bad(fmt::format("\"{}\" is not a size in bytes (want e.g. 1500, 64KiB, 10MB)", text));
  const std::string_view unit_name = text.substr(number->length);
  std::uint64_t scale = 1;
  if (!unit_name.empty()) {
    const Unit* unit = nullptr;
    for (const auto& u : kByteUnits) {
      if (u.name == unit_name) unit = &u;
    }
    if (unit == nullptr) {
      return bad(fmt::format("size \"{}\" has an unknown unit \"{}\" (want B, kB, KiB, MB, MiB, "
                             "GB, GiB, TB or TiB)",
                             text, unit_name));
    }
    scale = unit->scale;
  }
  if (number->overflow) return bad(fmt::format("size \"{}\" is out of range", text));
  if (!number->fraction_exact(scale)) {
    return bad(fmt::format("size \"{}\" is not a whole number of bytes", text));
  }
  const U128 bytes = number->times(scale);
  if (bytes > std::numeric_limits<std::uint64_t>::max()) {
    return bad(fmt::format("size \"{}\" is out of range", text));
  }
  return static_cast<std::uint64_t>(bytes);
}

}  // namespace calisim::calico
