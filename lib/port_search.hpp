// lib/port_search.hpp: the order in which a get-port search tries
// ports, as a sans-I/O state machine. It says which port to try next; the
// caller claims it in the lock registry, probes it and reports. Compiled in
// lib/, tested without sockets.
#pragma once

#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include <portprobe/ports.hpp>

namespace portprobe::detail {

class port_search {
 public:
  /// How often the OS may pick an excluded, busy or locked port before the
  /// search goes over the remaining ports itself.
  static constexpr int os_pick_attempts = 16;

  /// What comes after the preferred ports.
  enum class fallback_kind {
    none,           ///< nothing: the preferred ports only
    os_then_sweep,  ///< OS picks (port 0), then, should they keep failing, a sweep
    sweep,          ///< a sweep of 1024-65535 from a seeded start, never asking the OS
  };

  enum class action_kind {
    probe,      ///< claim `port`, probe it, report with on_result(port, ...)
    pick,       ///< bind port 0; if acceptable(picked), claim it; report on_result(picked, ...)
    exhausted,  ///< nothing left to try
  };
  struct action {
    action_kind kind;
    std::uint16_t port = 0;
  };

  /// How a try ended.
  enum class outcome {
    taken,   ///< free and claimed: one answer (the search goes on for more)
    busy,    ///< probed and not free (or, for a pick, not acceptable)
    locked,  ///< held by a lock: not probed (for a pick: probed, then the claim failed)
  };

  /// `seed` chooses where the sweep over 1024-65535 starts. `avoid`: an
  /// inclusive range never tried nor returned (the OS's ephemeral range), as
  /// if excluded.
  port_search(const port_list& preferred, const port_list& exclude, fallback_kind fallback,
              std::uint32_t seed,
              std::optional<std::pair<std::uint16_t, std::uint16_t>> avoid = std::nullopt);

  /// The next try.
  action next();

  /// After a pick: whether the OS's choice may be claimed (it is neither
  /// excluded nor tried already: a port taken before, with a zero hold, holds
  /// no lock that would keep it from being taken twice).
  bool acceptable(std::uint16_t picked) const noexcept {
    return picked != 0 && !excluded(picked) && !tried(picked);
  }

  /// The end of the last try: for a pick, `port` is the OS's choice (0 when
  /// the pick failed).
  void on_result(std::uint16_t port, outcome result);

  /// The ports probed or picked so far (for tests and statistics).
  std::uint32_t probes() const noexcept { return probes_; }

 private:
  enum class phase { preferred, pick, sweep, done };
  bool excluded(std::uint16_t port) const noexcept { return exclude_ && exclude_->test(port); }
  bool tried(std::uint16_t port) const noexcept;
  void mark_tried(std::uint16_t port);
  void after_preferred();

  port_list preferred_;
  port_list::iterator next_preferred_;
  std::unique_ptr<std::bitset<65536>> exclude_;
  // The ports tried: the first few in a small array (a search usually tries
  // one or two: no 8 KiB bitset to allocate and clear per call), then a bitset.
  static constexpr std::size_t few_tried = 16;
  std::array<std::uint16_t, few_tried> first_tried_{};
  std::size_t tried_count_ = 0;
  std::unique_ptr<std::bitset<65536>> tried_;
  fallback_kind fallback_;
  phase phase_ = phase::preferred;
  bool waiting_ = false;  // a try is out; on_result() expected
  int picks_ = 0;         // picks in a row that gave no answer
  std::uint32_t sweep_start_;
  std::uint32_t sweep_done_ = 0;  // ports of the sweep visited
  std::uint32_t probes_ = 0;
};

}  // namespace portprobe::detail
