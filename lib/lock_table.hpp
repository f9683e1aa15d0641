// lib/lock_table.hpp: the rules of this process's port locks, as
// plain code over an injected time (no clock, no I/O), so that they are tested
// without sleeping. Not thread-safe: the registry touches it on its strand only.
#pragma once

#include <bitset>
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
  /// A `pending` lock is a claim whose probe is not over: locked for every
  /// other search, but not yet a port handed out, so that release(), clear()
  /// and expire() leave it to the claim that made it (which confirms or takes it).
  struct entry {
    time_point until;
    bool reserved = false;
    std::uint64_t id = 0;
    std::uint64_t lease = 0;
    bool pending = false;
  };

  /// Whether `port` is locked at `now`: pending, reserved, or locked less than
  /// its hold ago.
  bool is_locked(std::uint16_t port, time_point now) const;

  /// A pending lock on `port` for claim `id` (see entry). False, changing
  /// nothing, when `port` is locked.
  bool try_claim(std::uint16_t port, time_point now, std::uint64_t id, std::uint64_t lease);

  /// Turns claim `id`'s pending lock into a lock from `now` for `hold` (or
  /// reserved), with its lease word now `lease`. False when claim `id` holds
  /// no pending lock on `port`.
  bool confirm(std::uint16_t port, std::uint64_t id, time_point now, duration hold, bool reserve,
               std::uint64_t lease);

  /// The entry of `port`, if any.
  const entry* find(std::uint16_t port) const;

  /// Locks `port` from `now` for `hold` (or until released, when `reserve`).
  /// Returns false, changing nothing, when it is already locked. A zero hold
  /// (without `reserve`) locks nothing and returns true.
  bool try_lock(std::uint16_t port, time_point now, duration hold, bool reserve,
                std::uint64_t id = 0, std::uint64_t lease = 0);

  /// Ends the lock on `port`, if any and not pending, and returns it.
  std::optional<entry> take(std::uint16_t port);
  /// Ends the lock on `port` only when claim `id` made it, and returns it.
  std::optional<entry> take_if(std::uint16_t port, std::uint64_t id);
  /// Ends every lock but the pending ones, calling f(port, entry) for each
  /// first. Allocates nothing.
  template <typename F>
  void drain(F&& f) {
    for (auto it = locks_.begin(); it != locks_.end();) {
      if (it->second.pending) {
        ++it;
      } else {
        f(it->first, it->second);
        it = erase(it);
      }
    }
  }

  /// Ends the lock on `port`, if any and not pending.
  void release(std::uint16_t port) { (void)take(port); }
  /// Ends every lock, pending ones included.
  void clear() {
    locks_.clear();
    present_.reset();
  }

  /// Forgets the locks whose hold has ended by `now`. Returns the earliest end
  /// of a hold still pending (reserved locks have none), to arm a timer for.
  std::optional<time_point> expire(time_point now);

  /// The reserved locks' entries, to renew their leases.
  template <typename F>
  void for_each_reserved(F&& f) {
    for (auto& [port, e] : locks_) {
      if (e.reserved && !e.pending) f(port, e);
    }
  }

  /// The locks held at `now` (not the pending ones).
  std::vector<std::pair<std::uint16_t, entry>> held(time_point now) const;

  /// Entries still stored (expired ones included until expire() forgets them).
  std::size_t size() const noexcept { return locks_.size(); }

 private:
  using map = std::unordered_map<std::uint16_t, entry>;
  map::iterator erase(map::iterator it) {
    present_.reset(it->first);
    return locks_.erase(it);
  }
  void put(std::uint16_t port, const entry& e) {
    locks_.insert_or_assign(port, e);
    present_.set(port);
  }

  map locks_;
  // Which ports have an entry: most lookups are of a port without one (an OS
  // pick, a sweep), answered by one bit instead of a hash and a node.
  std::bitset<65536> present_;
};

}  // namespace portprobe::detail
