#pragma once
// A re-armable one-shot timer: the usual shape of protocol timers (RTO, hold, keepalive).
// The callback is stored once in the Timer; arming schedules a pointer-sized event.

#include <calisim/sim/inplace_function.hpp>
#include <calisim/sim/simulator.hpp>

namespace calisim {

class Timer {
 public:
  using Callback = InplaceFunction<void(), 32>;

  Timer(Simulator& sim, Callback on_expire) : sim_(&sim), on_expire_(std::move(on_expire)) {}
  ~Timer() { cancel(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // (Re-)arm to fire at `at`; an earlier arming is forgotten.
  void arm_at(Time at) {
    cancel();
    deadline_ = at;
    id_ = sim_->schedule_at(at, [this] { fire(); });
  }
  void arm_after(Duration delay) { arm_at(sim_->now() + delay); }
  void cancel() {
    if (id_.valid()) sim_->cancel(id_);
    id_ = EventId();
  }
  bool armed() const { return id_.valid(); }
  // When it fires; meaningful only while armed().
  Time deadline() const { return deadline_; }

 private:
  void fire() {
    id_ = EventId();
    on_expire_();  // may re-arm
  }

  Simulator* sim_;
  Callback on_expire_;
  EventId id_;
  Time deadline_;
};

}  // namespace calisim
