// portprobe/detail/window.hpp: the ordered window of find and scan, as plain
// code: which probe to start next, when the answer is known, which probes in
// flight no longer matter. Compiled in lib/, tested without sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include <portprobe/config.hpp>

namespace portprobe {
enum class port_status;
}

namespace portprobe::detail {

class PORTPROBE_API ordered_window {
 public:
  enum class goal {
    all,           ///< scan: every index's status
    first_open,    ///< find in use: the first index, in order, that is open
    first_closed,  ///< find not in use: the first index, in order, that is closed
  };

  /// `count` probes, at most `concurrency` (at least 1) in flight.
  ordered_window(std::size_t count, std::size_t concurrency, goal g);

  /// The next index to probe, or nullopt when none may start now: the window is
  /// full, every index has started, or (find) none left could change the answer.
  std::optional<std::size_t> next();

  /// The probe of `index` ended with `status`.
  void complete(std::size_t index, port_status status);

  /// The probe of `index` could not start for want of a resource (EMFILE,
  /// ENFILE, no local port): it goes back to the front of the queue and the
  /// window shrinks to the probes in flight. Returns false, changing nothing,
  /// when none is in flight: then nothing would ever free the resource.
  bool retry(std::size_t index);

  /// The answer is known (find) or every status is (scan).
  bool finished() const noexcept;

  /// Whether the probe of `index`, in flight, can still change the answer
  /// (find: it comes before the best candidate so far). False once finished.
  bool matters(std::size_t index) const noexcept;

  /// find: the index of the answer, or nullopt when no index has the status.
  /// Meaningful once finished().
  std::optional<std::size_t> answer() const noexcept;

  /// scan: the status of every index, in order. Meaningful once finished().
  const std::vector<port_status>& statuses() const noexcept { return status_; }

  std::size_t in_flight() const noexcept { return in_flight_; }
  std::size_t limit() const noexcept { return limit_; }

 private:
  bool is_goal(port_status s) const noexcept;

  goal goal_;
  std::size_t count_;
  std::size_t limit_;
  std::size_t next_new_ = 0;           // the next index never started
  std::vector<std::size_t> retry_;     // indices to start again, smallest last
  std::vector<port_status> status_;
  std::vector<bool> done_;
  std::size_t resolved_prefix_ = 0;    // indices [0, n) all done
  std::size_t candidate_;              // find: smallest done index with the goal status (count_ if none)
  std::size_t in_flight_ = 0;
};

}  // namespace portprobe::detail
