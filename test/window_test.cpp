#include <portprobe/detail/window.hpp>

#include <optional>
#include <vector>

#include <portprobe/status_types.hpp>

#include "address_walk.hpp"

#include <doctest/doctest.h>

// The ordered window of find and scan, without sockets: probes complete in any
// order; the answer is still the first in list order.
using portprobe::port_status;
using portprobe::detail::ordered_window;
using goal = ordered_window::goal;

namespace {
std::vector<std::size_t> start_all(ordered_window& w) {
  std::vector<std::size_t> started;
  for (int i = 0; i < 1000; ++i) {
    auto n = w.next();
    if (!n) break;
    started.push_back(*n);
  }
  return started;
}
}  // namespace

TEST_CASE("at most `concurrency` probes are in flight; the window slides in list order") {
  ordered_window w(5, 2, goal::all);
  CHECK(start_all(w) == std::vector<std::size_t>{0, 1});
  w.complete(1, port_status::closed);  // the second answers first
  CHECK(start_all(w) == std::vector<std::size_t>{2});
  w.complete(0, port_status::open);
  w.complete(2, port_status::filtered);
  CHECK(start_all(w) == std::vector<std::size_t>{3, 4});
  CHECK_FALSE(w.finished());
  w.complete(4, port_status::closed);
  w.complete(3, port_status::open);
  CHECK(w.finished());
  CHECK(w.statuses() == std::vector<port_status>{port_status::open, port_status::closed,
                                                  port_status::filtered, port_status::open,
                                                  port_status::closed});
  CHECK_FALSE(w.next());
}

TEST_CASE("find: a later open port waits for the earlier ones; list order wins") {
  ordered_window w(4, 4, goal::first_open);
  CHECK(start_all(w).size() == 4);
  w.complete(2, port_status::open);  // index 2 is open, but 0 and 1 are unknown
  CHECK_FALSE(w.finished());
  CHECK_FALSE(w.matters(3));  // 3 can no longer be the answer: cancel it
  CHECK(w.matters(1));
  w.complete(1, port_status::open);  // 1 beats 2
  CHECK_FALSE(w.finished());
  w.complete(0, port_status::filtered);  // a slow first port decides only when it is done
  CHECK(w.finished());
  REQUIRE(w.answer());
  CHECK(*w.answer() == 1);
}

TEST_CASE("find: an open first port answers at once, whatever is still in flight") {
  ordered_window w(100, 10, goal::first_open);
  start_all(w);
  w.complete(0, port_status::open);
  CHECK(w.finished());
  CHECK(*w.answer() == 0);
  for (std::size_t i = 1; i < 10; ++i) CHECK_FALSE(w.matters(i));
  CHECK_FALSE(w.next());
}

TEST_CASE("find: nothing has the status, or an empty list: no answer") {
  ordered_window w(3, 2, goal::first_closed);
  for (int round = 0; round < 3; ++round) {
    for (auto i : start_all(w)) w.complete(i, port_status::open);
  }
  CHECK(w.finished());
  CHECK_FALSE(w.answer());
  ordered_window empty(0, 4, goal::first_open);
  CHECK(empty.finished());
  CHECK_FALSE(empty.answer());
  CHECK_FALSE(empty.next());
}

TEST_CASE("find: no probe starts past the best candidate") {
  ordered_window w(10, 2, goal::first_closed);
  CHECK(start_all(w) == std::vector<std::size_t>{0, 1});
  w.complete(1, port_status::closed);
  CHECK(start_all(w).empty());  // 2.. can never beat 1
  w.complete(0, port_status::open);
  CHECK(*w.answer() == 1);
}

TEST_CASE("out of descriptors: the probe is retried first and the window shrinks") {
  ordered_window w(6, 4, goal::all);
  CHECK(start_all(w) == std::vector<std::size_t>{0, 1, 2, 3});
  CHECK(w.retry(2));  // EMFILE on 2: three remain in flight
  CHECK(w.limit() == 3);
  CHECK(w.retry(3));
  CHECK(w.limit() == 2);
  CHECK(start_all(w).empty());
  w.complete(0, port_status::closed);
  CHECK(start_all(w) == std::vector<std::size_t>{2});  // the smallest retried index first
  w.complete(1, port_status::closed);
  CHECK(start_all(w) == std::vector<std::size_t>{3});
  w.complete(2, port_status::closed);
  w.complete(3, port_status::closed);
  CHECK(start_all(w) == std::vector<std::size_t>{4, 5});
  w.complete(4, port_status::closed);
  w.complete(5, port_status::open);
  CHECK(w.finished());
  CHECK(w.statuses().back() == port_status::open);
}

TEST_CASE("out of descriptors with nothing in flight cannot go on") {
  ordered_window w(3, 1, goal::all);
  CHECK(start_all(w) == std::vector<std::size_t>{0});
  CHECK_FALSE(w.retry(0));
}

TEST_CASE("a concurrency of 0 is taken as 1 by the window (the options default it earlier)") {
  ordered_window w(3, 0, goal::all);
  CHECK(start_all(w).size() == 1);
}

// The walk of one port over a host's addresses (lib/address_walk.hpp), without
// sockets: the engine asks it which address comes next and the port's status.
namespace {
using portprobe::detail::address_walk;
using portprobe::detail::connect_outcome;

// Feeds `outcomes` to a walk over `addresses` addresses; returns the addresses
// it asked for, in order.
std::vector<std::size_t> walk_through(address_walk& w, std::vector<connect_outcome> outcomes) {
  std::vector<std::size_t> asked;
  for (const connect_outcome o : outcomes) {
    const auto a = w.current();
    if (!a) break;
    asked.push_back(*a);
    w.record(o);
  }
  return asked;
}
}  // namespace

TEST_CASE("address walk: open at the first address that accepts, later ones untried") {
  address_walk w(3);
  CHECK(walk_through(w, {connect_outcome::closed, connect_outcome::open, connect_outcome::closed}) ==
        std::vector<std::size_t>{0, 1});
  CHECK(w.done());
  CHECK_FALSE(w.current());
  CHECK(w.status() == port_status::open);
}

TEST_CASE("address walk: closed only when every address refused") {
  address_walk w(2);
  CHECK_FALSE(w.done());
  CHECK(walk_through(w, {connect_outcome::closed, connect_outcome::closed}) ==
        std::vector<std::size_t>{0, 1});
  CHECK(w.done());
  CHECK(w.status() == port_status::closed);
}

TEST_CASE("address walk: an address without an answer makes the port filtered, unless one accepts") {
  SUBCASE("filtered then refused") {
    address_walk w(2);
    walk_through(w, {connect_outcome::filtered, connect_outcome::closed});
    CHECK(w.done());
    CHECK(w.status() == port_status::filtered);
  }
  SUBCASE("refused then filtered") {
    address_walk w(2);
    walk_through(w, {connect_outcome::closed, connect_outcome::filtered});
    CHECK(w.status() == port_status::filtered);
  }
  SUBCASE("filtered then open") {
    address_walk w(2);
    walk_through(w, {connect_outcome::filtered, connect_outcome::open});
    CHECK(w.done());
    CHECK(w.status() == port_status::open);
  }
}

TEST_CASE("address walk: outcomes that are not answers count as filtered; nothing changes once over") {
  address_walk w(2);
  w.record(connect_outcome::aborted);
  REQUIRE(w.current() == std::optional<std::size_t>{1});
  w.record(connect_outcome::closed);
  CHECK(w.done());
  CHECK(w.status() == port_status::filtered);
  w.record(connect_outcome::open);  // over: ignored
  CHECK(w.status() == port_status::filtered);

  address_walk none(0);  // no address: over at once, nothing accepted
  CHECK(none.done());
  CHECK(none.status() == port_status::closed);
}

TEST_CASE("address walk: a copy resumes where the original stood (the engine's children keep one)") {
  address_walk w(3);
  w.record(connect_outcome::filtered);
  address_walk copy = w;
  CHECK(copy.current() == std::optional<std::size_t>{1});
  copy.record(connect_outcome::closed);
  copy.record(connect_outcome::closed);
  CHECK(copy.status() == port_status::filtered);
  CHECK(w.current() == std::optional<std::size_t>{1});  // the original did not move
}
