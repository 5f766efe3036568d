#pragma once
// The discrete-event engine. An ordinary object: several may live in one process.
//
// Events are callables kept in pooled slots (no allocation per event). The queue is a radix
// heap (Ahuja, Mehlhorn, Orlin, Tarjan 1990) over 16-byte (time, sequence|slot) entries: simulated
// time never goes backwards, so an entry can sit in the bucket named by the highest bit in which
// its time differs from the last time taken out. Entries only ever move to lower buckets, by
// sequential sweeps, which keeps a million pending events cache-friendly where a binary heap
// takes a cache miss per level. Events at the same time run in the order they were scheduled.
// Cancel is O(1): it frees the slot, which turns the queue entry into a tombstone that is
// skipped when it surfaces (and swept in bulk when tombstones outnumber live events).

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <calisim/sim/inplace_function.hpp>
#include <calisim/sim/random.hpp>
#include <calisim/sim/result.hpp>
#include <calisim/sim/time.hpp>

namespace calisim {

// What an event runs: 48 bytes of capture, enough for a few pointers and ids.
using EventFn = InplaceFunction<void(), 48>;

// Names one scheduled event. It stays unique for the simulator's lifetime: its key holds the
// event's scheduling sequence number, so a recycled slot never answers to an old id.
class EventId {
 public:
  constexpr EventId() = default;
  constexpr bool valid() const { return key_ != 0; }
  friend constexpr bool operator==(EventId, EventId) = default;

 private:
  friend class Simulator;
  constexpr explicit EventId(std::uint64_t key) : key_(key) {}
  std::uint64_t key_ = 0;
};

class Simulator {
 public:
  explicit Simulator(std::uint64_t seed = 1);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  Time now() const { return now_; }
  std::uint64_t seed() const { return seed_; }

  // A random stream for one named purpose, derived from this run's seed.
  RandomStream random(std::string_view name) const { return RandomStream(seed_, name); }

  // Schedule f to run at `at` (>= now). The callable is built in its pooled slot.
  template <class F>
  EventId schedule_at(Time at, F&& f) {
    CALISIM_CHECK(at >= now_, "cannot schedule an event in the past");
    const std::uint32_t index = acquire_slot();
    Slot& s = slot(index);
    s.fn.emplace(std::forward<F>(f));
    CALISIM_CHECK(next_seq_ < kMaxSeq, "event sequence numbers exhausted");
    s.key = (next_seq_++ << kSlotBits) | index;
    push_entry(Entry{static_cast<std::uint64_t>(at.ns()), s.key});
    ++live_;
    return EventId(s.key);
  }
  template <class F>
  EventId schedule_after(Duration delay, F&& f) {
    return schedule_at(now_ + delay, std::forward<F>(f));
  }

  // Cancel a pending event. Returns false if it already ran, was cancelled, or is running now.
  bool cancel(EventId id);
  bool is_pending(EventId id) const;

  // Run until no events remain or stop() is called.
  void run();
  // Run every event with time <= until, then advance the clock to `until` (unless stopped).
  void run_until(Time until);
  // Run exactly one event. Returns false when none is pending.
  bool step();
  // Ask run()/run_until() to return after the current event.
  void stop() { stopped_ = true; }

  // Time of the next pending event, if any.
  std::optional<Time> next_event_time();

  std::size_t pending() const { return live_; }
  std::uint64_t executed() const { return executed_; }

 private:
  // Queue entry, 16 bytes. `key` is (sequence << kSlotBits) | slot, so (time, key) orders equal
  // times by scheduling order, and the slot's own key tells whether the entry is still live.
  struct Entry {
    std::uint64_t time;
    std::uint64_t key;
  };
  // 64 bytes. `key` is the pending event's key; a free slot holds kFree | next free index; a
  // running or cancelled slot holds neither, so no id or queue entry matches it.
  struct Slot {
    EventFn fn;
    std::uint64_t key = kFree | kNoSlot;
  };
  static constexpr unsigned kSlotBits = 24;  // up to 16.7 M events pending at once
  static constexpr std::uint64_t kSlotMask = (std::uint64_t{1} << kSlotBits) - 1;
  static constexpr std::uint64_t kMaxSeq = std::uint64_t{1} << (63 - kSlotBits);
  static constexpr std::uint64_t kFree = std::uint64_t{1} << 63;
  static constexpr std::uint32_t kNoSlot = static_cast<std::uint32_t>(kSlotMask);
  static constexpr std::uint32_t kChunkBits = 10;
  static constexpr std::uint32_t kChunkSize = 1u << kChunkBits;
  // Bucket 0 holds entries at exactly last_; bucket b (1..64) those whose time first differs
  // from last_ in bit b-1.
  static constexpr int kBuckets = 65;

  Slot& slot(std::uint64_t i) { return chunks_[i >> kChunkBits][i & (kChunkSize - 1)]; }
  const Slot& slot(std::uint64_t i) const {
    return chunks_[i >> kChunkBits][i & (kChunkSize - 1)];
  }
  std::uint32_t acquire_slot() {
    if (free_head_ == kNoSlot) grow();
    const std::uint32_t i = free_head_;
    free_head_ = static_cast<std::uint32_t>(slot(i).key & kSlotMask);
    return i;
  }
  void release_slot(std::uint32_t i) {
    slot(i).key = kFree | free_head_;
    free_head_ = i;
  }
  void grow();
  bool live(const Entry& e) const { return slot(e.key & kSlotMask).key == e.key; }
  int bucket_of(std::uint64_t time) const {
    return time == last_ ? 0 : 64 - __builtin_clzll(time ^ last_);
  }
  void push_entry(const Entry& e) {
    const int b = bucket_of(e.time);
    buckets_[b].push_back(e);
    if (b != 0) {
      if (e.time < bucket_min_[b]) bucket_min_[b] = e.time;
      occupied_ |= std::uint64_t{1} << (b - 1);
    }
  }
  bool refill_front(std::uint64_t limit);
  void sweep_tombstones();
  bool run_next(std::uint64_t limit);

  Time now_;
  std::uint64_t seed_;
  std::uint64_t next_seq_ = 1;  // 0 is never a sequence, so a valid key is never 0
  std::uint64_t executed_ = 0;
  std::size_t live_ = 0;
  std::size_t tombstones_ = 0;
  bool stopped_ = false;
  std::uint32_t free_head_ = kNoSlot;
  std::uint32_t slot_count_ = 0;
  std::vector<std::unique_ptr<Slot[]>> chunks_;
  std::uint64_t last_ = 0;        // time of the last entry taken out; never above now_
  std::size_t front_ = 0;         // next entry of bucket 0 to take
  std::uint64_t occupied_ = 0;    // bit b-1 set: bucket b (1..64) is not empty
  std::vector<Entry> buckets_[kBuckets];
  std::uint64_t bucket_min_[kBuckets];
};

}  // namespace calisim
