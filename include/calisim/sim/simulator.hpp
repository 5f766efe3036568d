#pragma once
// The discrete-event engine. An ordinary object: several may live in one process.
//
// Events are callables kept in pooled slots (no allocation per event); the queue is a 4-ary
// min-heap of small (time, sequence, slot, generation) entries. Events at the same time run in
// the order they were scheduled. Cancel is O(1): it frees the slot and bumps its generation, which
// turns the heap entry into a tombstone that is skipped when it surfaces (and swept in bulk when
// tombstones outnumber live events).

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

class EventId {
 public:
  constexpr EventId() = default;
  constexpr bool valid() const { return generation_ != 0; }
  friend constexpr bool operator==(EventId, EventId) = default;

 private:
  friend class Simulator;
  constexpr EventId(std::uint32_t slot, std::uint32_t generation)
      : slot_(slot), generation_(generation) {}
  std::uint32_t slot_ = 0;
  std::uint32_t generation_ = 0;  // 0 never names an event
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
    push_entry(Entry{at.ns(), next_seq_++, index, s.generation});
    ++live_;
    return EventId(index, s.generation);
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
  struct Entry {
    std::int64_t time;
    std::uint64_t seq;
    std::uint32_t slot;
    std::uint32_t generation;
  };
  struct Slot {
    EventFn fn;
    std::uint32_t generation = 1;
    std::uint32_t next_free = 0;
  };
  static constexpr std::uint32_t kChunkBits = 10;
  static constexpr std::uint32_t kChunkSize = 1u << kChunkBits;
  static constexpr std::uint32_t kNoSlot = 0xffffffffu;

  Slot& slot(std::uint32_t i) { return chunks_[i >> kChunkBits][i & (kChunkSize - 1)]; }
  const Slot& slot(std::uint32_t i) const { return chunks_[i >> kChunkBits][i & (kChunkSize - 1)]; }
  std::uint32_t acquire_slot() {
    if (free_head_ == kNoSlot) grow();
    const std::uint32_t i = free_head_;
    free_head_ = slot(i).next_free;
    return i;
  }
  void release_slot(std::uint32_t i) {
    Slot& s = slot(i);
    if (++s.generation == 0) s.generation = 1;
    s.next_free = free_head_;
    free_head_ = i;
  }
  void grow();
  void push_entry(const Entry& e);
  void pop_entry();
  void sweep_tombstones();
  bool run_next(std::int64_t limit);

  std::int64_t now_ns() const { return now_.ns(); }

  Time now_;
  std::uint64_t seed_;
  std::uint64_t next_seq_ = 0;
  std::uint64_t executed_ = 0;
  std::size_t live_ = 0;
  std::size_t tombstones_ = 0;
  bool stopped_ = false;
  std::uint32_t free_head_ = kNoSlot;
  std::uint32_t slot_count_ = 0;
  std::vector<std::unique_ptr<Slot[]>> chunks_;
  std::vector<Entry> heap_;
};

}  // namespace calisim
