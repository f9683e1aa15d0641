#include "lock_table.hpp"

#include <algorithm>

namespace portprobe::detail {

bool lock_table::is_locked(std::uint16_t port, time_point now) const {
  if (!present_.test(port)) return false;
  const auto it = locks_.find(port);
  return it != locks_.end() &&
         (it->second.pending || it->second.reserved || now < it->second.until);
}

namespace {
lock_table::time_point until_of(lock_table::time_point now, lock_table::duration hold) {
  // Saturate: a hold of years must not overflow the clock.
  return hold >= lock_table::time_point::max() - now ? lock_table::time_point::max() : now + hold;
}
}  // namespace

bool lock_table::try_claim(std::uint16_t port, time_point now, std::uint64_t id,
                           std::uint64_t lease) {
  if (is_locked(port, now)) return false;
  put(port, entry{time_point::max(), false, id, lease, true});
  return true;
}

bool lock_table::confirm(std::uint16_t port, std::uint64_t id, time_point now, duration hold,
                         bool reserve, std::uint64_t lease) {
  const auto it = locks_.find(port);
  if (it == locks_.end() || it->second.id != id || !it->second.pending) return false;
  if (!reserve && hold <= duration::zero()) {
    erase(it);
    return true;
  }
  it->second = entry{until_of(now, hold), reserve, id, lease, false};
  return true;
}

const lock_table::entry* lock_table::find(std::uint16_t port) const {
  if (!present_.test(port)) return nullptr;
  const auto it = locks_.find(port);
  return it == locks_.end() ? nullptr : &it->second;
}

bool lock_table::try_lock(std::uint16_t port, time_point now, duration hold, bool reserve,
                          std::uint64_t id, std::uint64_t lease) {
  if (is_locked(port, now)) return false;
  if (!reserve && hold <= duration::zero()) {
    if (const auto it = locks_.find(port); it != locks_.end()) erase(it);  // expired: nothing held
    return true;
  }
  put(port, entry{until_of(now, hold), reserve, id, lease, false});
  return true;
}

std::optional<lock_table::entry> lock_table::take(std::uint16_t port) {
  const auto it = locks_.find(port);
  if (it == locks_.end() || it->second.pending) return std::nullopt;
  entry e = it->second;
  erase(it);
  return e;
}

std::optional<lock_table::entry> lock_table::take_if(std::uint16_t port, std::uint64_t id) {
  const auto it = locks_.find(port);
  if (it == locks_.end() || it->second.id != id) return std::nullopt;
  entry e = it->second;
  erase(it);
  return e;
}

std::optional<lock_table::time_point> lock_table::expire(time_point now) {
  std::optional<time_point> earliest;
  for (auto it = locks_.begin(); it != locks_.end();) {
    if (it->second.reserved || it->second.pending) {
      ++it;
    } else if (it->second.until <= now) {
      it = erase(it);
    } else {
      earliest = earliest ? std::min(*earliest, it->second.until) : it->second.until;
      ++it;
    }
  }
  return earliest;
}

std::vector<std::pair<std::uint16_t, lock_table::entry>> lock_table::held(time_point now) const {
  std::vector<std::pair<std::uint16_t, entry>> out;
  for (const auto& [port, e] : locks_) {
    if (!e.pending && (e.reserved || now < e.until)) out.emplace_back(port, e);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace portprobe::detail
