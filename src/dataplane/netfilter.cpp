#include <calisim/dataplane/netfilter.hpp>

#include <algorithm>

namespace calisim::dataplane {

std::size_t Netfilter::register_hook(NfHook hook, int priority, NfHookFn fn) {
  const std::size_t id = next_id_++;
  auto& chain = chains_[index(hook)];
  // After every entry of lower or equal priority (nf_hook_entries_grow keeps them sorted).
  auto at = std::upper_bound(chain.begin(), chain.end(), priority,
                             [](int p, const Entry& e) { return p < e.priority; });
  chain.insert(at, Entry{id, priority, std::move(fn)});
  return id;
}

void Netfilter::unregister_hook(std::size_t id) {
  for (auto& chain : chains_) {
    std::erase_if(chain, [id](const Entry& e) { return e.id == id; });
  }
}

NfVerdict Netfilter::run(wire::Packet& datagram, const NfHookState& state) const {
  for (const Entry& e : chains_[index(state.hook)]) {
    if (e.fn(datagram, state) == NfVerdict::kDrop) return NfVerdict::kDrop;
  }
  return NfVerdict::kAccept;
}

}  // namespace calisim::dataplane
