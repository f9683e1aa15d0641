// portprobe/detail/port_search.hpp: the order in which a get-port search tries
// ports, as a sans-I/O state machine. It says which port to probe next; the
// caller probes and reports. Compiled in lib/, tested without sockets.
#pragma once

#include <bitset>
#include <cstdint>
#include <memory>

#include <portprobe/detail/lock_table.hpp>
#include <portprobe/ports.hpp>

namespace portprobe::detail {

class port_search {
 public:
  /// How often the OS may pick an excluded or locked port before the search
  /// goes over the remaining ports itself.
  static constexpr int os_pick_attempts = 16;

  enum class action_kind {
    probe,      ///< probe `port`; report with on_probe(port, free)
    pick,       ///< bind port 0; report with on_probe(picked_port, free)
    found,      ///< `port` is the answer (free, not excluded, not locked)
    exhausted,  ///< nothing left: error::no_available_port
  };
  struct action {
    action_kind kind;
    std::uint16_t port = 0;
  };

  /// `seed` chooses where the last-resort sweep over 1024-65535 starts.
  port_search(const port_list& preferred, const port_list& exclude, bool fallback,
              std::uint32_t seed);

  /// The next step. A port that `locks` holds is never probed nor found.
  action next(const lock_view& locks);

  /// The outcome of the last probe or pick: `port` (for a pick, the port the OS
  /// chose) could be bound and listened on (`free`), or not.
  void on_probe(std::uint16_t port, bool free);

  /// The ports probed or picked so far (for tests and statistics).
  std::uint32_t probes() const noexcept { return probes_; }

 private:
  enum class phase { preferred, pick, sweep, done };
  bool excluded(std::uint16_t port) const noexcept { return exclude_ && exclude_->test(port); }
  bool tried(std::uint16_t port) const noexcept { return tried_ && tried_->test(port); }
  void mark_tried(std::uint16_t port);

  port_list preferred_;
  port_list::iterator next_preferred_;
  std::unique_ptr<std::bitset<65536>> exclude_;
  std::unique_ptr<std::bitset<65536>> tried_;
  bool fallback_;
  phase phase_ = phase::preferred;
  bool waiting_ = false;  // a probe or pick is out; on_probe() expected
  bool last_free_ = false;
  std::uint16_t last_port_ = 0;
  int picks_ = 0;
  std::uint32_t sweep_start_;
  std::uint32_t sweep_done_ = 0;  // ports of the sweep visited
  std::uint32_t probes_ = 0;
};

}  // namespace portprobe::detail
