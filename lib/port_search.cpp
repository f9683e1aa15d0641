#include "port_search.hpp"

#include <algorithm>

namespace portprobe::detail {

namespace {
constexpr std::uint32_t sweep_size = max_port - min_port + 1;
}

port_search::port_search(const port_list& preferred, const port_list& exclude,
                         fallback_kind fallback, std::uint32_t seed,
                         std::optional<std::pair<std::uint16_t, std::uint16_t>> avoid)
    : preferred_(preferred),
      next_preferred_(preferred_.begin()),
      fallback_(fallback),
      sweep_start_(seed % sweep_size) {
  if (!exclude.empty() || avoid) {
    exclude_ = std::make_unique<std::bitset<65536>>();
    for (std::uint16_t p : exclude) exclude_->set(p);
    if (avoid) {
      for (std::uint32_t p = avoid->first; p <= avoid->second; ++p) exclude_->set(p);
    }
  }
}

bool port_search::tried(std::uint16_t port) const noexcept {
  if (tried_) return tried_->test(port);
  const auto end = first_tried_.begin() + static_cast<std::ptrdiff_t>(tried_count_);
  return std::find(first_tried_.begin(), end, port) != end;
}

void port_search::mark_tried(std::uint16_t port) {
  if (tried_) {
    tried_->set(port);
  } else if (tried_count_ < few_tried) {
    if (!tried(port)) first_tried_[tried_count_++] = port;
  } else {
    tried_ = std::make_unique<std::bitset<65536>>();
    for (std::uint16_t p : first_tried_) tried_->set(p);
    tried_->set(port);
  }
}

void port_search::on_result(std::uint16_t port, outcome result) {
  const bool picking = phase_ == phase::pick;
  waiting_ = false;
  if (port != 0) mark_tried(port);
  if (result != outcome::locked || picking) ++probes_;
  if (picking) {
    // A pick that gave an answer starts a new run of attempts (for the next
    // port of async_get_ports); one that did not counts against the OS.
    if (result == outcome::taken) {
      picks_ = 0;
    } else if (++picks_ >= os_pick_attempts) {
      phase_ = phase::sweep;
    }
  }
}

void port_search::after_preferred() {
  switch (fallback_) {
    case fallback_kind::none:
      phase_ = phase::done;
      break;
    case fallback_kind::os_then_sweep:
      phase_ = phase::pick;
      break;
    case fallback_kind::sweep:
      phase_ = phase::sweep;
      break;
  }
}

port_search::action port_search::next() {
  if (waiting_) return {action_kind::exhausted, 0};  // misuse: no report came

  if (phase_ == phase::preferred) {
    while (next_preferred_ != preferred_.end()) {
      const std::uint16_t port = *next_preferred_++;
      if (excluded(port) || tried(port)) continue;
      waiting_ = true;
      return {action_kind::probe, port};
    }
    after_preferred();
  }

  if (phase_ == phase::pick) {
    waiting_ = true;
    return {action_kind::pick, 0};
  }

  if (phase_ == phase::sweep) {
    // Every port of 1024-65535 once, from a seeded start, wrapping around.
    while (sweep_done_ < sweep_size) {
      const auto port =
          static_cast<std::uint16_t>(min_port + (sweep_start_ + sweep_done_) % sweep_size);
      ++sweep_done_;
      if (excluded(port) || tried(port)) continue;
      waiting_ = true;
      return {action_kind::probe, port};
    }
    phase_ = phase::done;
  }

  return {action_kind::exhausted, 0};
}

}  // namespace portprobe::detail
