#include <portprobe/detail/lock_table.hpp>

#include <algorithm>

namespace portprobe::detail {

bool lock_table::is_locked(std::uint16_t port, time_point now) const {
  const auto it = locks_.find(port);
  return it != locks_.end() && (it->second.reserved || now < it->second.until);
}

bool lock_table::try_lock(std::uint16_t port, time_point now, duration hold, bool reserve) {
  if (is_locked(port, now)) return false;
  if (!reserve && hold <= duration::zero()) {
    locks_.erase(port);  // an expired entry, if any: nothing is held
    return true;
  }
  // Saturate: a hold of years must not overflow the clock.
  const time_point until =
      hold >= time_point::max() - now ? time_point::max() : now + hold;
  locks_.insert_or_assign(port, entry{until, reserve});
  return true;
}

void lock_table::release(std::uint16_t port) { locks_.erase(port); }

void lock_table::clear() { locks_.clear(); }

std::optional<lock_table::time_point> lock_table::expire(time_point now) {
  std::optional<time_point> earliest;
  for (auto it = locks_.begin(); it != locks_.end();) {
    if (it->second.reserved) {
      ++it;
    } else if (it->second.until <= now) {
      it = locks_.erase(it);
    } else {
      earliest = earliest ? std::min(*earliest, it->second.until) : it->second.until;
      ++it;
    }
  }
  return earliest;
}

}  // namespace portprobe::detail
