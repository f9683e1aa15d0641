#include <portprobe/detail/port_search.hpp>

#include <algorithm>
#include <functional>
#include <set>
#include <vector>

#include <doctest/doctest.h>

// The order of a get-port search, without sockets: a scripted "network" says
// which ports are busy and which ports the OS picks.
namespace pp = portprobe;
using pp::detail::port_search;
using kind = port_search::action_kind;

namespace {

struct fake_locks final : pp::detail::lock_view {
  std::set<std::uint16_t> locked;
  bool is_locked(std::uint16_t port) const override { return locked.count(port) != 0; }
};

struct run_result {
  std::vector<std::uint16_t> probed;  // ports probed, in order (0 = a pick)
  kind end = kind::exhausted;
  std::uint16_t port = 0;
};

// Runs the search to its end (bounded) against the script.
run_result drive(port_search& s, const fake_locks& locks, const std::set<std::uint16_t>& busy,
                 const std::function<std::uint16_t()>& os_pick = [] { return 0; }) {
  run_result r;
  for (int step = 0; step < 200000; ++step) {
    const auto a = s.next(locks);
    if (a.kind == kind::found || a.kind == kind::exhausted) {
      r.end = a.kind;
      r.port = a.port;
      return r;
    }
    if (a.kind == kind::probe) {
      r.probed.push_back(a.port);
      s.on_probe(a.port, busy.count(a.port) == 0);
    } else {
      r.probed.push_back(0);
      const std::uint16_t q = os_pick();
      s.on_probe(q, q != 0 && busy.count(q) == 0);
    }
  }
  FAIL("the search did not end");
  return r;
}

}  // namespace

TEST_CASE("preferred ports are tried in order; the first free one is the answer") {
  port_search s({3000, 3001, 3002}, {}, true, 0);
  const auto r = drive(s, {}, {3000});
  CHECK(r.probed == std::vector<std::uint16_t>{3000, 3001});
  CHECK(r.end == kind::found);
  CHECK(r.port == 3001);
}

TEST_CASE("a locked port is skipped without probing it (get-port's bug #72)") {
  fake_locks locks;
  locks.locked = {3000};
  port_search s({3000, 3001}, {}, true, 0);
  const auto r = drive(s, locks, {});
  CHECK(r.probed == std::vector<std::uint16_t>{3001});
  CHECK(r.port == 3001);
}

TEST_CASE("excluded preferred ports are never probed nor returned; duplicates probed once") {
  port_search s(pp::port_numbers(3000, 3004), pp::port_numbers(3000, 3002), false, 0);
  const auto r = drive(s, {}, {3003});
  CHECK(r.probed == std::vector<std::uint16_t>{3003, 3004});
  CHECK(r.port == 3004);
  port_search d({3000, 3000, 3001}, {}, false, 0);
  CHECK(drive(d, {}, {3000, 3001}).probed == std::vector<std::uint16_t>{3000, 3001});
}

TEST_CASE("without fallback the search stays inside the preferred ports") {
  port_search s(pp::port_numbers(3000, 3002), {}, false, 0);
  const auto r = drive(s, {}, {3000, 3001, 3002});
  CHECK(r.end == kind::exhausted);
  CHECK(r.probed == std::vector<std::uint16_t>{3000, 3001, 3002});
  port_search empty({}, {}, false, 0);
  CHECK(drive(empty, {}, {}).end == kind::exhausted);
}

TEST_CASE("with fallback, after the preferred ports the OS picks") {
  port_search s({3000}, {}, true, 0);
  const auto r = drive(s, {}, {3000}, [] { return std::uint16_t{45000}; });
  CHECK(r.probed == std::vector<std::uint16_t>{3000, 0});
  CHECK(r.port == 45000);
}

TEST_CASE("an excluded or locked OS pick is picked again") {
  // get-port returns the OS's pick unchecked.
  fake_locks locks;
  locks.locked = {45001};
  std::vector<std::uint16_t> picks{45000, 45001, 45002};
  std::size_t i = 0;
  port_search s({}, {45000}, true, 0);
  const auto r = drive(s, locks, {}, [&] { return picks.at(i++); });
  CHECK(r.probed == std::vector<std::uint16_t>{0, 0, 0});
  CHECK(r.port == 45002);
}

TEST_CASE("when the OS keeps picking excluded ports, the rest is swept: no endless loop") {
  // exclude covers the whole ephemeral range; the OS only ever picks from it.
  const pp::port_list exclude = pp::port_numbers(32768, 65535);
  std::uint16_t next_pick = 32768;
  port_search s({}, exclude, true, 7);
  const auto r = drive(s, {}, {}, [&] { return next_pick++; });
  CHECK(r.end == kind::found);
  CHECK(r.port >= 1024);
  CHECK(r.port < 32768);
  CHECK(std::count(r.probed.begin(), r.probed.end(), 0) == port_search::os_pick_attempts);
}

TEST_CASE("everything excluded, busy or locked: no_available_port after one sweep") {
  fake_locks locks;
  for (int p = 2000; p < 2100; ++p) locks.locked.insert(static_cast<std::uint16_t>(p));
  std::set<std::uint16_t> busy;
  for (int p = 1024; p <= 65535; ++p) {
    if (p < 2000 || p >= 2100) busy.insert(static_cast<std::uint16_t>(p));
  }
  port_search s({}, pp::port_numbers(40000, 65535), true, 12345);
  const auto r = drive(s, locks, busy, [] { return std::uint16_t{0}; });  // the OS has none
  CHECK(r.end == kind::exhausted);
  // Each port of 1024-39999 that is neither locked nor excluded probed exactly once.
  std::set<std::uint16_t> seen;
  for (auto p : r.probed) {
    if (p == 0) continue;
    CHECK(seen.insert(p).second);
    CHECK(locks.locked.count(p) == 0);
    CHECK(p < 40000);
  }
  CHECK(seen.size() == 40000 - 1024 - 100);
}

TEST_CASE("the sweep visits each remaining port once, starting from its seed") {
  std::uint16_t first = 0;
  const fake_locks none;
  port_search s({}, {}, true, 100);
  for (int i = 0; i < port_search::os_pick_attempts; ++i) {
    REQUIRE(s.next(none).kind == kind::pick);
    s.on_probe(0, false);  // the OS cannot pick
  }
  const auto a = s.next(none);
  REQUIRE(a.kind == kind::probe);
  first = a.port;
  CHECK(first == 1024 + 100);
  s.on_probe(first, false);
  CHECK(s.next(none).port == first + 1);
}
