#include <calisim/sim/simulator.hpp>

#include <algorithm>
#include <limits>

namespace calisim {
namespace {
constexpr std::uint64_t kNoTime = std::numeric_limits<std::uint64_t>::max();
}  // namespace

Simulator::Simulator(std::uint64_t seed) : seed_(seed) {
  std::fill(std::begin(bucket_min_), std::end(bucket_min_), kNoTime);
}

Simulator::~Simulator() = default;

void Simulator::grow() {
  CALISIM_CHECK(slot_count_ + kChunkSize <= kSlotMask, "too many events pending at once");
  auto chunk = std::make_unique<Slot[]>(kChunkSize);
  const std::uint32_t base = slot_count_;
  // Thread the new slots onto the free list in ascending order.
  for (std::uint32_t k = 0; k < kChunkSize; ++k) {
    const std::uint32_t next = (k + 1 < kChunkSize) ? base + k + 1 : free_head_;
    chunk[k].key = kFree | next;
  }
  chunks_.push_back(std::move(chunk));
  slot_count_ += kChunkSize;
  free_head_ = base;
}

// Bucket 0 is used up: move the lowest non-empty bucket down, around its smallest time, unless
// that time is beyond `limit`. Returns false when nothing was moved.
bool Simulator::refill_front(std::uint64_t limit) {
  auto& front = buckets_[0];
  front.clear();
  front_ = 0;
  if (occupied_ == 0) {
    // Empty: re-anchor at the clock, so that anything scheduled from now on buckets correctly.
    last_ = static_cast<std::uint64_t>(now_.ns());
    return false;
  }
  const int b = __builtin_ctzll(occupied_) + 1;
  const std::uint64_t smallest = bucket_min_[b];
  if (smallest > limit) return false;
  last_ = smallest;
  auto& from = buckets_[b];
  // Every entry of bucket b agrees with the new last_ above bit b-1, so each lands lower.
  for (const Entry& e : from) push_entry(e);
  from.clear();
  bucket_min_[b] = kNoTime;
  occupied_ &= ~(std::uint64_t{1} << (b - 1));
  // Entries arriving in bucket 0 here share one time; run them in scheduling order. Later
  // arrivals (scheduled at exactly last_) carry larger sequence numbers, so appending keeps it.
  if (front.size() > 1) {
    std::sort(front.begin(), front.end(),
              [](const Entry& x, const Entry& y) { return x.key < y.key; });
  }
  return true;
}

void Simulator::sweep_tombstones() {
  auto& front = buckets_[0];
  front.erase(front.begin(), front.begin() + static_cast<std::ptrdiff_t>(front_));
  front_ = 0;
  std::erase_if(front, [this](const Entry& e) { return !live(e); });
  for (int b = 1; b < kBuckets; ++b) {
    auto& bucket = buckets_[b];
    if (bucket.empty()) continue;
    std::erase_if(bucket, [this](const Entry& e) { return !live(e); });
    bucket_min_[b] = kNoTime;
    for (const Entry& e : bucket) bucket_min_[b] = std::min(bucket_min_[b], e.time);
    if (bucket.empty()) occupied_ &= ~(std::uint64_t{1} << (b - 1));
  }
  tombstones_ = 0;
}

bool Simulator::cancel(EventId id) {
  const std::uint64_t index = id.key_ & kSlotMask;
  if (!id.valid() || index >= slot_count_) return false;
  Slot& s = slot(index);
  if (s.key != id.key_) return false;
  s.fn.reset();
  release_slot(static_cast<std::uint32_t>(index));
  --live_;
  ++tombstones_;
  if (tombstones_ > 4096 && tombstones_ > live_) sweep_tombstones();
  return true;
}

bool Simulator::is_pending(EventId id) const {
  const std::uint64_t index = id.key_ & kSlotMask;
  return id.valid() && index < slot_count_ && slot(index).key == id.key_;
}

bool Simulator::run_next(std::uint64_t limit) {
  auto& front = buckets_[0];
  for (;;) {
    if (front_ == front.size() && !refill_front(limit)) return false;
    const Entry top = front[front_];
    if (top.time > limit) return false;
    ++front_;
    const auto index = static_cast<std::uint32_t>(top.key & kSlotMask);
    Slot& s = slot(index);
    if (s.key != top.key) {  // cancelled
      --tombstones_;
      continue;
    }
    now_ = Time::from_ns(static_cast<std::int64_t>(top.time));
    // The id stops naming a pending event before it runs (cancel(self) returns false), but the
    // slot is reused only after the callable has finished. Chunks never move, so `s` stays
    // valid while the callable schedules more events.
    s.key = 0;
    --live_;
    s.fn();
    s.fn.reset();
    release_slot(index);
    ++executed_;
    return true;
  }
}

void Simulator::run() {
  stopped_ = false;
  while (!stopped_ && run_next(kNoTime)) {
  }
}

void Simulator::run_until(Time until) {
  stopped_ = false;
  while (!stopped_ && run_next(static_cast<std::uint64_t>(until.ns()))) {
  }
  if (!stopped_ && until > now_) now_ = until;
}

bool Simulator::step() { return run_next(kNoTime); }

std::optional<Time> Simulator::next_event_time() {
  const auto& front = buckets_[0];
  for (std::size_t i = front_; i < front.size(); ++i) {
    if (live(front[i])) return Time::from_ns(static_cast<std::int64_t>(front[i].time));
  }
  // Buckets are ordered: every time in bucket b is below every time in bucket b+1.
  for (int b = 1; b < kBuckets; ++b) {
    std::uint64_t best = kNoTime;
    for (const Entry& e : buckets_[b]) {
      if (e.time < best && live(e)) best = e.time;
    }
    if (best != kNoTime) return Time::from_ns(static_cast<std::int64_t>(best));
  }
  return std::nullopt;
}

}  // namespace calisim
