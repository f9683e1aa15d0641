// portprobe/detail/lock_table.hpp: the rules of the in-process port locks, as
// plain code over an injected time (no clock, no I/O), so that they are tested
// without sleeping. Not thread-safe: the registry touches it on its strand only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>

namespace portprobe::detail {

/// What the port search asks of whatever holds locks: the one small interface
/// that a shared, cross-process table can implement later too.
class lock_view {
 public:
  virtual bool is_locked(std::uint16_t port) const = 0;

 protected:
  ~lock_view() = default;
};

class lock_table {
 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;
  using duration = clock::duration;

  /// Whether `port` is locked at `now`: reserved, or locked less than its hold ago.
  bool is_locked(std::uint16_t port, time_point now) const;

  /// Locks `port` from `now` for `hold` (or until released, when `reserve`).
  /// Returns false, changing nothing, when it is already locked. A zero hold
  /// (without `reserve`) locks nothing and returns true.
  bool try_lock(std::uint16_t port, time_point now, duration hold, bool reserve);

  /// Ends the lock on `port`, if any.
  void release(std::uint16_t port);
  /// Ends every lock.
  void clear();

  /// Forgets the locks whose hold has ended by `now`. Returns the earliest end
  /// of a hold still pending (reserved locks have none), to arm a timer for.
  std::optional<time_point> expire(time_point now);

  /// Entries still stored (expired ones included until expire() forgets them).
  std::size_t size() const noexcept { return locks_.size(); }

  /// A view of the table at a fixed time, for the port search.
  class view_at final : public lock_view {
   public:
    view_at(const lock_table& table, time_point now) noexcept : table_(table), now_(now) {}
    bool is_locked(std::uint16_t port) const override { return table_.is_locked(port, now_); }

   private:
    const lock_table& table_;
    time_point now_;
  };

 private:
  struct entry {
    time_point until;
    bool reserved;
  };
  std::unordered_map<std::uint16_t, entry> locks_;
};

}  // namespace portprobe::detail
