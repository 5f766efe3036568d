#include <calisim/sim/simulator.hpp>

#include <algorithm>

namespace calisim {
namespace {

// Strict order of heap entries: time first, then scheduling order.
inline bool earlier(std::int64_t at, std::uint64_t aseq, std::int64_t bt, std::uint64_t bseq) {
  return at < bt || (at == bt && aseq < bseq);
}

}  // namespace

Simulator::Simulator(std::uint64_t seed) : seed_(seed) { heap_.reserve(1024); }

Simulator::~Simulator() = default;

void Simulator::grow() {
  auto chunk = std::make_unique<Slot[]>(kChunkSize);
  const std::uint32_t base = slot_count_;
  // Thread the new slots onto the free list in ascending order.
  for (std::uint32_t k = 0; k < kChunkSize; ++k) {
    chunk[k].next_free = (k + 1 < kChunkSize) ? base + k + 1 : free_head_;
  }
  chunks_.push_back(std::move(chunk));
  slot_count_ += kChunkSize;
  free_head_ = base;
}

// 4-ary heap: children of i are 4i+1 .. 4i+4. Shallower than a binary heap, and the four
// children of a node share a cache line or two.
void Simulator::push_entry(const Entry& e) {
  heap_.push_back(e);
  std::size_t i = heap_.size() - 1;
  while (i > 0) {
    const std::size_t parent = (i - 1) >> 2;
    const Entry& p = heap_[parent];
    if (!earlier(e.time, e.seq, p.time, p.seq)) break;
    heap_[i] = p;
    i = parent;
  }
  heap_[i] = e;
}

void Simulator::pop_entry() {
  const Entry last = heap_.back();
  heap_.pop_back();
  const std::size_t n = heap_.size();
  if (n == 0) return;
  std::size_t i = 0;
  for (;;) {
    const std::size_t first = 4 * i + 1;
    if (first >= n) break;
    std::size_t best = first;
    const std::size_t end = std::min(first + 4, n);
    for (std::size_t c = first + 1; c < end; ++c) {
      if (earlier(heap_[c].time, heap_[c].seq, heap_[best].time, heap_[best].seq)) best = c;
    }
    if (!earlier(heap_[best].time, heap_[best].seq, last.time, last.seq)) break;
    heap_[i] = heap_[best];
    i = best;
  }
  heap_[i] = last;
}

void Simulator::sweep_tombstones() {
  std::erase_if(heap_, [this](const Entry& e) { return slot(e.slot).generation != e.generation; });
  tombstones_ = 0;
  // Rebuild by sifting down from the last parent; (time, seq) is a total order, so the
  // execution order is unchanged.
  const std::size_t n = heap_.size();
  if (n < 2) return;
  for (std::size_t start = (n - 2) / 4 + 1; start-- > 0;) {
    const Entry e = heap_[start];
    std::size_t i = start;
    for (;;) {
      const std::size_t first = 4 * i + 1;
      if (first >= n) break;
      std::size_t best = first;
      const std::size_t end = std::min(first + 4, n);
      for (std::size_t c = first + 1; c < end; ++c) {
        if (earlier(heap_[c].time, heap_[c].seq, heap_[best].time, heap_[best].seq)) best = c;
      }
      if (!earlier(heap_[best].time, heap_[best].seq, e.time, e.seq)) break;
      heap_[i] = heap_[best];
      i = best;
    }
    heap_[i] = e;
  }
}

bool Simulator::cancel(EventId id) {
  if (!id.valid() || id.slot_ >= slot_count_) return false;
  Slot& s = slot(id.slot_);
  if (s.generation != id.generation_ || !s.fn) return false;
  s.fn.reset();
  release_slot(id.slot_);
  --live_;
  ++tombstones_;
  if (tombstones_ > 4096 && tombstones_ > live_) sweep_tombstones();
  return true;
}

bool Simulator::is_pending(EventId id) const {
  if (!id.valid() || id.slot_ >= slot_count_) return false;
  const Slot& s = slot(id.slot_);
  return s.generation == id.generation_ && static_cast<bool>(s.fn);
}

bool Simulator::run_next(std::int64_t limit) {
  while (!heap_.empty()) {
    const Entry top = heap_.front();
    Slot& s = slot(top.slot);
    if (s.generation != top.generation) {  // cancelled
      pop_entry();
      --tombstones_;
      continue;
    }
    if (top.time > limit) return false;
    pop_entry();
    now_ = Time::from_ns(top.time);
    // The id stops naming a pending event before it runs (cancel(self) returns false), but the
    // slot is only reused after the callable has finished. Chunks never move, so `s` stays valid
    // while the callable schedules more events.
    if (++s.generation == 0) s.generation = 1;
    --live_;
    s.fn();
    s.fn.reset();
    s.next_free = free_head_;
    free_head_ = top.slot;
    ++executed_;
    return true;
  }
  return false;
}

void Simulator::run() {
  stopped_ = false;
  while (!stopped_ && run_next(Time::max().ns())) {
  }
}

void Simulator::run_until(Time until) {
  stopped_ = false;
  while (!stopped_ && run_next(until.ns())) {
  }
  if (!stopped_ && until > now_) now_ = until;
}

bool Simulator::step() { return run_next(Time::max().ns()); }

std::optional<Time> Simulator::next_event_time() {
  while (!heap_.empty()) {
    const Entry& top = heap_.front();
    if (slot(top.slot).generation == top.generation) return Time::from_ns(top.time);
    pop_entry();
    --tombstones_;
  }
  return std::nullopt;
}

}  // namespace calisim
