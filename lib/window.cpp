#include <portprobe/detail/window.hpp>

#include <algorithm>

#include <portprobe/status_types.hpp>

namespace portprobe::detail {

ordered_window::ordered_window(std::size_t count, std::size_t concurrency, goal g)
    : goal_(g),
      count_(count),
      limit_(std::max<std::size_t>(concurrency, 1)),
      status_(g == goal::all ? count : 0, port_status::filtered),
      done_(count, false),
      candidate_(count) {}

bool ordered_window::is_goal(port_status s) const noexcept {
  return (goal_ == goal::first_open && s == port_status::open) ||
         (goal_ == goal::first_closed && s == port_status::closed);
}

std::optional<std::size_t> ordered_window::next() {
  if (finished() || in_flight_ >= limit_) return std::nullopt;
  std::size_t index;
  if (!retry_.empty()) {
    index = retry_.back();
    retry_.pop_back();
  } else if (next_new_ < count_ && next_new_ < candidate_) {
    index = next_new_++;
  } else {
    return std::nullopt;
  }
  if (index >= candidate_) return next();  // a retried probe that no longer matters
  ++in_flight_;
  return index;
}

void ordered_window::complete(std::size_t index, port_status status) {
  --in_flight_;
  if (done_[index]) return;
  done_[index] = true;
  if (goal_ == goal::all) {
    status_[index] = status;
  } else if (is_goal(status) && index < candidate_) {
    candidate_ = index;
  }
  while (resolved_prefix_ < count_ && done_[resolved_prefix_]) ++resolved_prefix_;
}

bool ordered_window::retry(std::size_t index) {
  if (in_flight_ <= 1) return false;  // only this one: nothing in flight would free a resource
  --in_flight_;
  limit_ = std::max<std::size_t>(in_flight_, 1);
  // Keep the queue sorted so that the smallest index is retried first.
  retry_.insert(std::upper_bound(retry_.begin(), retry_.end(), index, std::greater<>()), index);
  return true;
}

bool ordered_window::finished() const noexcept {
  if (goal_ == goal::all) return resolved_prefix_ == count_;
  return resolved_prefix_ >= candidate_;  // every index before the candidate is done
}

bool ordered_window::matters(std::size_t index) const noexcept {
  return !finished() && index < candidate_;
}

std::optional<std::size_t> ordered_window::answer() const noexcept {
  if (goal_ == goal::all || candidate_ == count_) return std::nullopt;
  return candidate_;
}

}  // namespace portprobe::detail
