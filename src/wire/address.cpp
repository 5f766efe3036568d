#include <calisim/wire/address.hpp>

#include <charconv>
#include <optional>

namespace calisim::wire {
namespace {

// Parses a decimal number 0..max with no sign, no leading '+', at most 3 digits.
std::optional<unsigned> parse_decimal(std::string_view s, unsigned max) {
  if (s.empty() || s.size() > 3) return std::nullopt;
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v > max) return std::nullopt;
  return v;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<Ipv4Address> Ipv4Address::parse(std::string_view text) {
  std::uint32_t value = 0;
  std::string_view rest = text;
  for (int i = 0; i < 4; ++i) {
    const auto dot = rest.find('.');
    const std::string_view part = (i < 3) ? rest.substr(0, dot) : rest;
    if ((i < 3 && dot == std::string_view::npos)) {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("'{}' is not an IPv4 address (want a.b.c.d)", text));
    }
    const auto octet = parse_decimal(part, 255);
    // A leading zero ("010") is octal to inet_aton() but rejected by inet_pton() and Go's
    // net.ParseIP: refuse it rather than pick a reading.
    if (!octet || (part.size() > 1 && part[0] == '0')) {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("'{}' is not an IPv4 address (part {} is '{}', want 0..255)",
                                    text, i + 1, part));
    }
    value = (value << 8) | *octet;
    if (i < 3) rest = rest.substr(dot + 1);
  }
  return Ipv4Address(value);
}

std::string Ipv4Address::to_string() const {
  const auto o = octets();
  return fmt::format("{}.{}.{}.{}", o[0], o[1], o[2], o[3]);
}

Result<Ipv4Prefix> Ipv4Prefix::parse(std::string_view text) {
  const auto slash = text.find('/');
  auto address = Ipv4Address::parse(text.substr(0, slash));
  if (!address) return std::unexpected(address.error());
  if (slash == std::string_view::npos) return Ipv4Prefix(*address, 32);
  const auto len = parse_decimal(text.substr(slash + 1), 32);
  if (!len) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("'{}' has a bad prefix length (want 0..32)", text));
  }
  return Ipv4Prefix(*address, static_cast<std::uint8_t>(*len));
}

std::string Ipv4Prefix::to_string() const {
  return fmt::format("{}/{}", address_.to_string(), length_);
}

Result<MacAddress> MacAddress::parse(std::string_view text) {
  std::array<std::uint8_t, 6> b{};
  if (text.size() != 17) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("'{}' is not a MAC address (want aa:bb:cc:dd:ee:ff)", text));
  }
  for (std::size_t i = 0; i < 6; ++i) {
    const int hi = hex_digit(text[3 * i]);
    const int lo = hex_digit(text[3 * i + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && text[3 * i + 2] != ':')) {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("'{}' is not a MAC address (want aa:bb:cc:dd:ee:ff)", text));
    }
    b[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return MacAddress(b);
}

std::string MacAddress::to_string() const {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", bytes_[0], bytes_[1], bytes_[2],
                     bytes_[3], bytes_[4], bytes_[5]);
}

}  // namespace calisim::wire
