// portprobe/detail/lock_table.hpp: the rules of this process's port locks, as
// plain code over an injected time (no clock, no I/O), so that they are tested
// without sleeping. Not thread-safe: the registry touches it on its strand only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace portprobe::detail {

class lock_table {
 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;
  using duration = clock::duration;

  /// One lock. `id` names the claim that made it (so that a claim undoes only
  /// its own lock); `lease` is its word in the shared lease table, 0 for none.
  struct entry {
    time_point until;
    bool reserved = false;
    std::uint64_t id = 0;
    std::uint64_t lease = 0;
  };

  /// Whether `port` is locked at `now`: reserved, or locked less than its hold ago.
  bool is_locked(std::uint16_t port, time_point now) const;

  /// Locks `port` from `now` for `hold` (or until released, when `reserve`).
  /// Returns false, changing nothing, when it is already locked. A zero hold
  /// (without `reserve`) locks nothing and returns true.
  bool try_lock(std::uint16_t port, time_point now, duration hold, bool reserve,
                std::uint64_t id = 0, std::uint64_t lease = 0);

  /// Ends the lock on `port`, if any, and returns it.
  std::optional<entry> take(std::uint16_t port);
  /// Ends the lock on `port` only when claim `id` made it, and returns it.
  std::optional<entry> take_if(std::uint16_t port, std::uint64_t id);
  /// Ends every lock, and returns them.
  std::vector<std::pair<std::uint16_t, entry>> take_all();

  /// Ends the lock on `port`, if any.
  void release(std::uint16_t port) { (void)take(port); }
  /// Ends every lock.
  void clear() { locks_.clear(); }

  /// Forgets the locks whose hold has ended by `now`. Returns the earliest end
  /// of a hold still pending (reserved locks have none), to arm a timer for.
  std::optional<time_point> expire(time_point now);

  /// The reserved locks' entries, to renew their leases.
  template <typename F>
  void for_each_reserved(F&& f) {
    for (auto& [port, e] : locks_) {
      if (e.reserved) f(port, e);
    }
  }

  /// The locks held at `now`.
  std::vector<std::pair<std::uint16_t, entry>> held(time_point now) const;

  /// Entries still stored (expired ones included until expire() forgets them).
  std::size_t size() const noexcept { return locks_.size(); }

 private:
  std::unordered_map<std::uint16_t, entry> locks_;
};

}  // namespace portprobe::detail
