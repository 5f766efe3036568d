#include "capture/background_writer.hpp"

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace calisim::capture::detail {

BackgroundWriter::BackgroundWriter(int fd) : fd_(fd), thread_([this] { run(); }) {}

BackgroundWriter::~BackgroundWriter() {
  {
    std::unique_lock lock(mutex_);
    work_done_.wait(lock, [this] { return !busy_; });
    stopping_ = true;
  }
  work_ready_.notify_one();
  thread_.join();
}

int BackgroundWriter::submit(std::vector<std::uint8_t>& buffer) {
  int error = 0;
  {
    std::unique_lock lock(mutex_);
    work_done_.wait(lock, [this] { return !busy_; });
    error = error_;
    if (error == 0) {
      pending_.clear();
      std::swap(pending_, buffer);  // `buffer` now holds the written one's capacity
      busy_ = true;
    }
  }
  if (error == 0) work_ready_.notify_one();
  buffer.clear();
  return error;
}

int BackgroundWriter::drain() {
  std::unique_lock lock(mutex_);
  work_done_.wait(lock, [this] { return !busy_; });
  return error_;
}

void BackgroundWriter::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    work_ready_.wait(lock, [this] { return busy_ || stopping_; });
    if (!busy_) return;  // stopping with nothing in flight
    lock.unlock();
    // pending_ is the thread's alone while busy_ is set.
    const std::uint8_t* p = pending_.data();
    std::size_t left = pending_.size();
    int error = 0;
    while (left > 0) {
      const ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        error = errno;
        break;
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    lock.lock();
    if (error != 0 && error_ == 0) error_ = error;
    busy_ = false;
    work_done_.notify_all();
  }
}

}  // namespace calisim::capture::detail
