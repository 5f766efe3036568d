#pragma once
// SHA-1 (FIPS 180-4). Not for security: Calico derives names from it (the host-side veth
// "cali" + sha1("<namespace>.<pod>")[:11], the VXLAN VTEP MAC 66: + sha1(nodename)[:5]), so
// calisim must compute exactly the same digests.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <calisim/wire/bytes.hpp>

namespace calisim::wire {

using Sha1Digest = std::array<std::uint8_t, 20>;

Sha1Digest sha1(Bytes data);
inline Sha1Digest sha1(std::string_view text) {
  return sha1(Bytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}
// Lower-case hex of the whole digest, as Go's hex.EncodeToString prints it.
std::string to_hex(const Sha1Digest& digest);

}  // namespace calisim::wire
