#include <portprobe/detail/port_search.hpp>

namespace portprobe::detail {

namespace {
constexpr std::uint32_t sweep_size = max_port - min_port + 1;
}

port_search::port_search(const port_list& preferred, const port_list& exclude,
                         bool fallback, std::uint32_t seed)
    : preferred_(preferred),
      next_preferred_(preferred_.begin()),
      fallback_(fallback),
      sweep_start_(seed % sweep_size) {
  if (!exclude.empty()) {
    exclude_ = std::make_unique<std::bitset<65536>>();
    for (std::uint16_t p : exclude) exclude_->set(p);
  }
}

void port_search::mark_tried(std::uint16_t port) {
  if (!tried_) tried_ = std::make_unique<std::bitset<65536>>();
  tried_->set(port);
}

void port_search::on_probe(std::uint16_t port, bool free) {
  waiting_ = false;
  last_port_ = port;
  last_free_ = free;
  ++probes_;
  if (port != 0) mark_tried(port);
}

port_search::action port_search::next(const lock_view& locks) {
  // First, the answer to the probe or pick that is out.
  if (waiting_) return {action_kind::exhausted, 0};  // misuse: no report came
  if (last_port_ != 0 || phase_ == phase::pick) {
    const std::uint16_t port = last_port_;
    const bool free = last_free_;
    last_port_ = 0;
    last_free_ = false;
    if (phase_ == phase::pick) {
      // The OS chose `port`; it may still be excluded or locked.
      if (free && port != 0 && !excluded(port) && !locks.is_locked(port)) {
        phase_ = phase::done;
        return {action_kind::found, port};
      }
      if (++picks_ >= os_pick_attempts) phase_ = phase::sweep;
    } else if (free && !locks.is_locked(port)) {
      // Checked again: the probe's answer may be read on a later visit of the
      // registry's strand, after another operation has locked the port.
      phase_ = phase::done;
      return {action_kind::found, port};
    }
  }

  if (phase_ == phase::preferred) {
    while (next_preferred_ != preferred_.end()) {
      const std::uint16_t port = *next_preferred_++;
      if (excluded(port) || tried(port) || locks.is_locked(port)) continue;
      waiting_ = true;
      return {action_kind::probe, port};
    }
    phase_ = fallback_ ? phase::pick : phase::done;
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
      if (excluded(port) || tried(port) || locks.is_locked(port)) continue;
      waiting_ = true;
      return {action_kind::probe, port};
    }
    phase_ = phase::done;
  }

  return {action_kind::exhausted, 0};
}

}  // namespace portprobe::detail
