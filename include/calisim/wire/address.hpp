#pragma once
// IPv4 addresses, prefixes and MAC addresses as small value types.

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <calisim/sim/result.hpp>

namespace calisim::wire {

class Ipv4Address {
 public:
  constexpr Ipv4Address() = default;
  // Host-order value: 10.0.0.1 is 0x0a000001.
  constexpr explicit Ipv4Address(std::uint32_t value) : value_(value) {}
  constexpr Ipv4Address(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d)
      : value_((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d) {}

  // Dotted quad, exactly four decimal parts 0..255 (no octal, no shorthand).
  static Result<Ipv4Address> parse(std::string_view text);

  constexpr std::uint32_t value() const { return value_; }
  constexpr std::array<std::uint8_t, 4> octets() const {
    return {static_cast<std::uint8_t>(value_ >> 24), static_cast<std::uint8_t>(value_ >> 16),
            static_cast<std::uint8_t>(value_ >> 8), static_cast<std::uint8_t>(value_)};
  }
  constexpr bool is_unspecified() const { return value_ == 0; }
  constexpr bool is_loopback() const { return (value_ >> 24) == 127; }
  constexpr bool is_multicast() const { return (value_ >> 28) == 0xe; }
  constexpr bool is_broadcast() const { return value_ == 0xffffffffu; }
  constexpr bool is_link_local() const { return (value_ >> 16) == 0xa9fe; }  // 169.254/16

  std::string to_string() const;

  constexpr auto operator<=>(const Ipv4Address&) const = default;

 private:
  std::uint32_t value_ = 0;
};

class Ipv4Prefix {
 public:
  constexpr Ipv4Prefix() = default;
  // Host bits of `address` are kept as given (ip addr keeps them: 10.0.0.5/24); use network()
  // for the masked form.
  constexpr Ipv4Prefix(Ipv4Address address, std::uint8_t length)
      : address_(address), length_(length > 32 ? 32 : length) {}

  // "a.b.c.d/len" or "a.b.c.d" (a /32).
  static Result<Ipv4Prefix> parse(std::string_view text);

  constexpr Ipv4Address address() const { return address_; }
  constexpr std::uint8_t length() const { return length_; }
  constexpr std::uint32_t mask() const {
    return length_ == 0 ? 0 : 0xffffffffu << (32 - length_);
  }
  constexpr Ipv4Address network() const { return Ipv4Address(address_.value() & mask()); }
  constexpr Ipv4Address broadcast() const { return Ipv4Address(address_.value() | ~mask()); }
  constexpr bool contains(Ipv4Address a) const {
    return (a.value() & mask()) == (address_.value() & mask());
  }
  constexpr bool contains(const Ipv4Prefix& p) const {
    return p.length_ >= length_ && contains(p.address_);
  }

  std::string to_string() const;
  constexpr auto operator<=>(const Ipv4Prefix&) const = default;

 private:
  Ipv4Address address_;
  std::uint8_t length_ = 0;
};

class MacAddress {
 public:
  constexpr MacAddress() = default;
  constexpr explicit MacAddress(std::array<std::uint8_t, 6> bytes) : bytes_(bytes) {}
  static constexpr MacAddress broadcast() { return MacAddress({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}); }

  // "aa:bb:cc:dd:ee:ff", case-insensitive.
  static Result<MacAddress> parse(std::string_view text);

  constexpr const std::array<std::uint8_t, 6>& bytes() const { return bytes_; }
  constexpr bool is_broadcast() const { return *this == broadcast(); }
  constexpr bool is_multicast() const { return (bytes_[0] & 1) != 0; }
  constexpr bool is_zero() const { return *this == MacAddress(); }

  // Lower-case, colon-separated, as iproute2 prints it.
  std::string to_string() const;
  constexpr auto operator<=>(const MacAddress&) const = default;

 private:
  std::array<std::uint8_t, 6> bytes_{};
};

}  // namespace calisim::wire

template <>
struct fmt::formatter<calisim::wire::Ipv4Address> : fmt::formatter<std::string_view> {
  auto format(calisim::wire::Ipv4Address a, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(a.to_string(), ctx);
  }
};
template <>
struct fmt::formatter<calisim::wire::Ipv4Prefix> : fmt::formatter<std::string_view> {
  auto format(const calisim::wire::Ipv4Prefix& p, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(p.to_string(), ctx);
  }
};
template <>
struct fmt::formatter<calisim::wire::MacAddress> : fmt::formatter<std::string_view> {
  auto format(const calisim::wire::MacAddress& m, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(m.to_string(), ctx);
  }
};
