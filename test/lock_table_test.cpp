#include "lock_table.hpp"

#include <doctest/doctest.h>

// The lock rules, on an injected clock: no sleeping.
using portprobe::detail::lock_table;
using namespace std::chrono_literals;

namespace {
const lock_table::time_point t0 = lock_table::time_point{} + 1000h;
}

TEST_CASE("a lock lasts exactly its hold: at least hold, at most twice hold") {
  lock_table t;
  CHECK(t.try_lock(3000, t0, 15s, false));
  CHECK(t.is_locked(3000, t0));
  CHECK(t.is_locked(3000, t0 + 15s - 1ns));
  CHECK_FALSE(t.is_locked(3000, t0 + 15s));
  CHECK_FALSE(t.is_locked(3000, t0 + 30s));
  CHECK_FALSE(t.is_locked(3001, t0));
}

TEST_CASE("a locked port cannot be locked again until its hold ends") {
  lock_table t;
  CHECK(t.try_lock(3000, t0, 10s, false));
  CHECK_FALSE(t.try_lock(3000, t0 + 5s, 10s, false));
  CHECK(t.is_locked(3000, t0 + 9s));  // the failed try did not extend nor shorten it
  CHECK_FALSE(t.is_locked(3000, t0 + 10s));
  CHECK(t.try_lock(3000, t0 + 10s, 10s, false));  // free again: a new hold from then
  CHECK(t.is_locked(3000, t0 + 19s));
}

TEST_CASE("an idle process forgets its locks: expire() after the hold, whatever happened") {
  // get-port's locks of an idle process never expire; here expiry is a
  // function of time alone.
  lock_table t;
  CHECK(t.try_lock(3000, t0, 15s, false));
  CHECK(t.try_lock(3001, t0 + 5s, 15s, false));
  CHECK(t.size() == 2);
  auto next = t.expire(t0 + 1s);
  REQUIRE(next);
  CHECK(*next == t0 + 15s);  // the timer is armed for the earliest end
  next = t.expire(t0 + 15s);
  CHECK(t.size() == 1);
  REQUIRE(next);
  CHECK(*next == t0 + 20s);
  CHECK_FALSE(t.expire(t0 + 20s));
  CHECK(t.size() == 0);
}

TEST_CASE("reserved locks last until released or cleared") {
  lock_table t;
  CHECK(t.try_lock(4000, t0, 1s, true));
  CHECK(t.try_lock(4001, t0, 1s, false));
  CHECK_FALSE(t.expire(t0 + 24h));  // no deadline pending: reserved ones have none
  CHECK(t.is_locked(4000, t0 + 24h));
  CHECK_FALSE(t.is_locked(4001, t0 + 24h));
  t.release(4000);
  CHECK_FALSE(t.is_locked(4000, t0 + 24h));
  CHECK(t.try_lock(4000, t0, 1s, true));
  CHECK(t.try_lock(4002, t0, 1h, false));
  t.clear();
  CHECK(t.size() == 0);
  CHECK_FALSE(t.is_locked(4000, t0));
  CHECK_FALSE(t.is_locked(4002, t0));
}

TEST_CASE("release ends a lock now; releasing an unlocked port does nothing") {
  lock_table t;
  t.release(5000);
  CHECK(t.try_lock(5000, t0, 1h, false));
  t.release(5000);
  CHECK_FALSE(t.is_locked(5000, t0));
  CHECK(t.size() == 0);
}

TEST_CASE("a zero hold locks nothing; a huge hold does not overflow") {
  lock_table t;
  CHECK(t.try_lock(6000, t0, 0s, false));
  CHECK_FALSE(t.is_locked(6000, t0));
  CHECK(t.size() == 0);
  CHECK(t.try_lock(6001, t0, lock_table::duration::max(), false));
  CHECK(t.is_locked(6001, t0 + 24h * 365 * 100));
}

TEST_CASE("a claim undoes only its own lock; take returns what was held") {
  // Op A locked P with claim 1, it lapsed, op B locked P again with claim 2:
  // A's late release must leave B's lock alone.
  lock_table t;
  CHECK(t.try_lock(7000, t0, 10s, false, 1, 0xabc));
  CHECK_FALSE(t.take_if(7000, 2));
  CHECK(t.is_locked(7000, t0));
  const auto e = t.take_if(7000, 1);
  REQUIRE(e);
  CHECK(e->lease == 0xabc);
  CHECK_FALSE(t.is_locked(7000, t0));
  CHECK(t.try_lock(7001, t0, 10s, false, 3, 0));
  CHECK(t.try_lock(7002, t0, 10s, true, 4, 0));
  CHECK(t.held(t0 + 11s).size() == 1);  // the reservation alone is still held
  int drained = 0;
  t.drain([&](std::uint16_t, const lock_table::entry&) { ++drained; });
  CHECK(drained == 2);
  CHECK(t.size() == 0);
}

TEST_CASE("every way a lock ends leaves the port free and lockable again, and no other") {
  lock_table t;
  // A zero-hold lock over an expired entry removes the entry.
  CHECK(t.try_lock(3000, t0, 10s, false));
  CHECK(t.try_lock(3000, t0 + 10s, 0s, false));
  CHECK(t.find(3000) == nullptr);
  CHECK(t.try_lock(3000, t0 + 10s, 5s, false));
  CHECK(t.is_locked(3000, t0 + 14s));
  // take, take_if, expire.
  CHECK(t.try_lock(3001, t0, 10s, false, 7));
  CHECK(t.take(3000));
  CHECK(t.take_if(3001, 7));
  CHECK(t.find(3000) == nullptr);
  CHECK(t.find(3001) == nullptr);
  CHECK(t.try_lock(3002, t0, 1s, false));
  (void)t.expire(t0 + 1s);
  CHECK(t.find(3002) == nullptr);
  CHECK(t.size() == 0);
  // drain ends the held locks and keeps the pending claims.
  CHECK(t.try_claim(3003, t0, 8, 0));
  CHECK(t.try_lock(3004, t0, 10s, true, 9));
  t.drain([](std::uint16_t, const lock_table::entry&) {});
  CHECK(t.is_locked(3003, t0 + 1h));
  CHECK(t.find(3004) == nullptr);
  // A confirmed claim with a zero hold locks nothing; clear ends everything.
  CHECK(t.confirm(3003, 8, t0, 0s, false, 0));
  CHECK_FALSE(t.is_locked(3003, t0));
  CHECK(t.try_claim(3005, t0, 10, 0));
  t.clear();
  CHECK_FALSE(t.is_locked(3005, t0));
  CHECK(t.try_lock(3005, t0, 10s, false));
  CHECK(t.is_locked(3005, t0));
}
