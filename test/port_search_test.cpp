#include "port_search.hpp"

#include <algorithm>
#include <functional>
#include <set>
#include <vector>

#include <doctest/doctest.h>

// The order of a get-port search, without sockets: a scripted "network" says
// which ports are busy, which ones locks hold, and which ports the OS picks.
// The driver plays the get-port engine's part: claim a port (a lock makes the claim
// fail, and the port is not probed), probe it; an OS pick is probed first and
// claimed after.
namespace pp = portprobe;
using pp::detail::port_search;
using kind = port_search::action_kind;
using outcome = port_search::outcome;
using fallback = port_search::fallback_kind;

namespace {

struct script {
  std::set<std::uint16_t> busy;
  std::set<std::uint16_t> locked;
  std::function<std::uint16_t()> os_pick = [] { return std::uint16_t{0}; };

  script& with_busy(std::set<std::uint16_t> b) {
    busy = std::move(b);
    return *this;
  }
  script& with_locked(std::set<std::uint16_t> l) {
    locked = std::move(l);
    return *this;
  }
  script& with_picks(std::function<std::uint16_t()> f) {
    os_pick = std::move(f);
    return *this;
  }
};

struct run_result {
  std::vector<std::uint16_t> probed;  // ports probed, in order (0 = a pick)
  std::vector<std::uint16_t> taken;   // the answers, in order
  bool exhausted = false;
};

// Runs the search until `wanted` ports are taken or it is exhausted (bounded).
run_result drive(port_search& s, script sc, std::size_t wanted = 1) {
  run_result r;
  for (int step = 0; step < 400000; ++step) {
    if (r.taken.size() == wanted) return r;
    const auto a = s.next();
    if (a.kind == kind::exhausted) {
      r.exhausted = true;
      return r;
    }
    std::uint16_t port = a.port;
    if (a.kind == kind::probe) {
      if (sc.locked.count(port) != 0) {  // the claim fails: not probed
        s.on_result(port, outcome::locked);
        continue;
      }
      r.probed.push_back(port);
      if (sc.busy.count(port) != 0) {
        s.on_result(port, outcome::busy);
        continue;
      }
    } else {
      r.probed.push_back(0);
      port = sc.os_pick();
      if (port == 0 || sc.busy.count(port) != 0 || !s.acceptable(port)) {
        s.on_result(port, outcome::busy);
        continue;
      }
      if (sc.locked.count(port) != 0) {  // probed, then the claim fails
        s.on_result(port, outcome::locked);
        continue;
      }
    }
    s.on_result(port, outcome::taken);
    sc.locked.insert(port);  // our own claim now holds it
    r.taken.push_back(port);
  }
  FAIL("the search did not end");
  return r;
}

}  // namespace

TEST_CASE("preferred ports are tried in order; the first free one is the answer") {
  port_search s({3000, 3001, 3002}, {}, fallback::os_then_sweep, 0);
  const auto r = drive(s, script().with_busy({3000}));
  CHECK(r.probed == std::vector<std::uint16_t>{3000, 3001});
  CHECK(r.taken == std::vector<std::uint16_t>{3001});
}

TEST_CASE("a locked port is skipped without probing it (get-port's bug #72)") {
  port_search s({3000, 3001}, {}, fallback::os_then_sweep, 0);
  const auto r = drive(s, script().with_locked({3000}));
  CHECK(r.probed == std::vector<std::uint16_t>{3001});
  CHECK(r.taken == std::vector<std::uint16_t>{3001});
  CHECK(s.probes() == 1);  // the locked one was no probe
}

TEST_CASE("excluded preferred ports are never probed nor returned; duplicates probed once") {
  port_search s(pp::port_numbers(3000, 3004), pp::port_numbers(3000, 3002), fallback::none, 0);
  const auto r = drive(s, script().with_busy({3003}));
  CHECK(r.probed == std::vector<std::uint16_t>{3003, 3004});
  CHECK(r.taken == std::vector<std::uint16_t>{3004});
  port_search d({3000, 3000, 3001}, {}, fallback::none, 0);
  CHECK(drive(d, script().with_busy({3000, 3001})).probed == std::vector<std::uint16_t>{3000, 3001});
}

TEST_CASE("without fallback the search stays inside the preferred ports") {
  port_search s(pp::port_numbers(3000, 3002), {}, fallback::none, 0);
  const auto r = drive(s, script().with_busy({3000, 3001, 3002}));
  CHECK(r.exhausted);
  CHECK(r.probed == std::vector<std::uint16_t>{3000, 3001, 3002});
  port_search empty({}, {}, fallback::none, 0);
  CHECK(drive(empty, {}).exhausted);
}

TEST_CASE("with fallback, after the preferred ports the OS picks") {
  port_search s({3000}, {}, fallback::os_then_sweep, 0);
  const auto r = drive(s, script().with_busy({3000}).with_picks([] { return std::uint16_t{45000}; }));
  CHECK(r.probed == std::vector<std::uint16_t>{3000, 0});
  CHECK(r.taken == std::vector<std::uint16_t>{45000});
}

TEST_CASE("an excluded or locked OS pick is picked again") {
  // get-port returns the OS's pick unchecked.
  std::vector<std::uint16_t> picks{45000, 45001, 45002};
  std::size_t i = 0;
  port_search s({}, {45000}, fallback::os_then_sweep, 0);
  const auto r = drive(s, script().with_locked({45001}).with_picks([&] { return picks.at(i++); }));
  CHECK(r.probed == std::vector<std::uint16_t>{0, 0, 0});
  CHECK(r.taken == std::vector<std::uint16_t>{45002});
}

TEST_CASE("when the OS keeps picking excluded ports, the rest is swept: no endless loop") {
  // exclude covers the whole ephemeral range; the OS only ever picks from it.
  const pp::port_list exclude = pp::port_numbers(32768, 65535);
  std::uint16_t next_pick = 32768;
  port_search s({}, exclude, fallback::os_then_sweep, 7);
  const auto r = drive(s, script().with_picks([&] { return next_pick++; }));
  REQUIRE(r.taken.size() == 1);
  CHECK(r.taken[0] >= 1024);
  CHECK(r.taken[0] < 32768);
  CHECK(std::count(r.probed.begin(), r.probed.end(), 0) == port_search::os_pick_attempts);
}

TEST_CASE("everything excluded, busy or locked: exhausted after one sweep") {
  script sc;
  for (int p = 2000; p < 2100; ++p) sc.locked.insert(static_cast<std::uint16_t>(p));
  for (int p = 1024; p <= 65535; ++p) {
    if (p < 2000 || p >= 2100) sc.busy.insert(static_cast<std::uint16_t>(p));
  }
  port_search s({}, pp::port_numbers(40000, 65535), fallback::os_then_sweep, 12345);
  const auto r = drive(s, sc);  // the OS has none
  CHECK(r.exhausted);
  // Each port of 1024-39999 that is neither locked nor excluded probed exactly once.
  std::set<std::uint16_t> seen;
  for (auto p : r.probed) {
    if (p == 0) continue;
    CHECK(seen.insert(p).second);
    CHECK(sc.locked.count(p) == 0);
    CHECK(p < 40000);
  }
  CHECK(seen.size() == 40000 - 1024 - 100);
}

TEST_CASE("the sweep visits each remaining port once, starting from its seed") {
  port_search s({}, {}, fallback::os_then_sweep, 100);
  for (int i = 0; i < port_search::os_pick_attempts; ++i) {
    REQUIRE(s.next().kind == kind::pick);
    s.on_result(0, outcome::busy);  // the OS cannot pick
  }
  const auto a = s.next();
  REQUIRE(a.kind == kind::probe);
  CHECK(a.port == 1024 + 100);
  s.on_result(a.port, outcome::busy);
  CHECK(s.next().port == a.port + 1);
}

TEST_CASE("avoid_ephemeral: a sweep that never asks the OS and skips the avoided range") {
  // Preferred ports inside the range are skipped too.
  port_search s({3000, 40000, 3001}, {}, fallback::sweep, 0, std::pair<std::uint16_t, std::uint16_t>{32768, 60999});
  auto r = drive(s, script().with_busy({3000, 3001}), 3);
  CHECK(std::count(r.probed.begin(), r.probed.end(), 0) == 0);  // no pick
  CHECK(r.probed.at(0) == 3000);
  CHECK(r.probed.at(1) == 3001);
  REQUIRE(r.taken.size() == 3);
  for (auto p : r.taken) {
    CHECK((p < 32768 || p > 60999));
    CHECK(p != 3000);
    CHECK(p != 3001);
  }
  CHECK(r.taken[0] == 1024);  // seed 0: the sweep starts at 1024
  CHECK(r.taken[1] == 1025);
}

TEST_CASE("several ports: the preferred ones in order, then picks; never one twice") {
  std::uint16_t next_pick = 50000;
  port_search s({3000, 3001, 3002}, {}, fallback::os_then_sweep, 0);
  const auto r = drive(s, script().with_busy({3001}).with_picks([&] { return next_pick++; }), 4);
  CHECK(r.taken == std::vector<std::uint16_t>{3000, 3002, 50000, 50001});
  // An OS that keeps returning the same port: it is taken once, then the
  // re-picks run out and the sweep takes over.
  port_search t({}, {}, fallback::os_then_sweep, 5);
  const auto same = drive(t, script().with_picks([] { return std::uint16_t{50000}; }), 2);
  REQUIRE(same.taken.size() == 2);
  CHECK(same.taken[0] == 50000);
  CHECK(same.taken[1] == 1024 + 5);
}

TEST_CASE("an OS pick already taken is not acceptable again (a zero hold locks nothing)") {
  // async_get_ports with hold 0: the OS may hand out the port it gave before.
  port_search s({}, {}, fallback::os_then_sweep, 0);
  REQUIRE(s.next().kind == kind::pick);
  REQUIRE(s.acceptable(45000));
  s.on_result(45000, outcome::taken);
  REQUIRE(s.next().kind == kind::pick);
  CHECK_FALSE(s.acceptable(45000));
  CHECK(s.acceptable(45001));
}

TEST_CASE("many ports tried: none is acceptable twice, past the first few kept inline") {
  // The first tries are kept in a small array, the rest in a bitset: the
  // switch from one to the other must forget nothing.
  port_search s({}, {}, fallback::os_then_sweep, 0);
  for (std::uint16_t p = 40000; p < 40040; ++p) {
    REQUIRE(s.next().kind == kind::pick);
    REQUIRE(s.acceptable(p));
    s.on_result(p, outcome::taken);
  }
  for (std::uint16_t p = 40000; p < 40040; ++p) CHECK_FALSE(s.acceptable(p));
  CHECK(s.acceptable(40040));
  CHECK(s.acceptable(39999));
}
