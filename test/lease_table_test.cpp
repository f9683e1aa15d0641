// The shared lease table and the registry's claim rules, without sockets: slot
// words on an injected time, the file's safety checks in a directory of the
// test's own, and the registry on an injected clock (no sleeping).
#include "lease_table.hpp"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "registry.hpp"

namespace pp = portprobe;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using pp::detail::lease_slots;
namespace word = pp::detail::lease_word;

namespace {

constexpr std::uint64_t boot0 = 1'000'000;  // ms of CLOCK_BOOTTIME

struct words {
  std::vector<std::uint64_t> memory = std::vector<std::uint64_t>(lease_slots::count, 0);
  lease_slots slots{memory.data()};
};

// A directory of the test's own, removed at the end.
struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string p = (fs::temp_directory_path() / "portprobe-lease-XXXXXX").string();
    REQUIRE(::mkdtemp(p.data()) != nullptr);
    path = p;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  pp::detail::lease_table_location where(const std::string& name = "table") const {
    return {path.string(), name};
  }
};

std::vector<char> read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct fake_clock final : pp::detail::lock_clock {
  pp::detail::lock_table::time_point steady = pp::detail::lock_table::time_point{} + 1000h;
  std::uint64_t boot = boot0;
  pp::detail::lock_table::time_point steady_now() const override { return steady; }
  std::uint64_t boot_ms() const override { return boot; }
  void advance(std::chrono::milliseconds d) {
    steady += d;
    boot += static_cast<std::uint64_t>(d.count());
  }
};

}  // namespace

// ---------------------------------------------------------------------------
// Slot words.

TEST_CASE("a word packs expiry and tag; huge holds saturate; held only before expiry") {
  const std::uint64_t w = word::make(boot0 + 15000, word::make_tag(4242, false));
  CHECK(word::expiry(w) == boot0 + 15000);
  CHECK((word::tag(w) & word::pid_mask) == 4242);
  CHECK((word::tag(w) & word::reserved_bit) == 0);
  CHECK(word::held(w, boot0 + 14999));
  CHECK_FALSE(word::held(w, boot0 + 15000));
  CHECK_FALSE(word::held(0, 0));
  CHECK((word::tag(word::make(boot0, word::make_tag(7, true))) & word::reserved_bit) != 0);
  // Years of hold, or milliseconds::max(), saturate instead of wrapping round.
  CHECK(word::deadline(boot0, ~std::uint64_t{0}) == word::max_expiry);
  CHECK(word::expiry(word::make(~std::uint64_t{0}, 1)) == word::max_expiry);
  CHECK(word::held(word::make(word::max_expiry, 1), 1'000'000'000'000ULL));  // 31 years of uptime
  // The largest Linux pid (2^22 - 1) keeps its value and no reserved bit.
  CHECK((word::make_tag(4194303, false) & word::pid_mask) == 4194303);
  CHECK((word::make_tag(4194303, false) & word::reserved_bit) == 0);
}

TEST_CASE("claim takes a free or expired slot, never a held one") {
  words w;
  const auto a = w.slots.claim(3000, boot0, 15000, 1);
  REQUIRE(a);
  CHECK(w.slots.load(3000) == *a);
  CHECK_FALSE(w.slots.claim(3000, boot0 + 14999, 15000, 2));  // held by tag 1
  CHECK(w.slots.load(3000) == *a);                          // unchanged by the failed claim
  const auto b = w.slots.claim(3000, boot0 + 15000, 1000, 2);  // expired: taken over
  REQUIRE(b);
  CHECK(word::tag(*b) == 2);
}

TEST_CASE("release and renew swap only our own word") {
  words w;
  const auto ours = w.slots.claim(4000, boot0, 1000, 1);
  REQUIRE(ours);
  // It lapsed and another process took it: our late release leaves theirs alone.
  const auto theirs = w.slots.claim(4000, boot0 + 1000, 1000, 2);
  REQUIRE(theirs);
  CHECK_FALSE(w.slots.release(4000, *ours));
  CHECK_FALSE(w.slots.renew(4000, *ours, word::make(boot0 + 99999, 1)));
  CHECK(w.slots.load(4000) == *theirs);
  CHECK(w.slots.release(4000, *theirs));
  CHECK(w.slots.load(4000) == 0);
  // A renewal from our word extends it.
  const auto r = w.slots.claim(4001, boot0, 30000, word::make_tag(9, true));
  REQUIRE(r);
  const std::uint64_t renewed = word::make(boot0 + 40000, word::tag(*r));
  CHECK(w.slots.renew(4001, *r, renewed));
  CHECK(word::held(w.slots.load(4001), boot0 + 39999));
}

TEST_CASE("held_leases lists the live leases with pid, time left and the reserved bit") {
  words w;
  REQUIRE(w.slots.claim(5000, boot0, 2000, word::make_tag(111, false)));
  REQUIRE(w.slots.claim(5001, boot0, 30000, word::make_tag(222, true)));
  REQUIRE(w.slots.claim(5002, boot0 - 5000, 1000, word::make_tag(333, false)));  // expired
  const auto leases = pp::detail::held_leases(w.slots, boot0 + 500);
  REQUIRE(leases.size() == 2);
  CHECK(leases[0].port == 5000);
  CHECK(leases[0].pid == 111);
  CHECK(leases[0].remaining == 1500ms);
  CHECK_FALSE(leases[0].reserved);
  CHECK(leases[1].port == 5001);
  CHECK(leases[1].pid == 222);
  CHECK(leases[1].reserved);
}

// ---------------------------------------------------------------------------
// The file: created safely, refused when unsafe (nothing created or changed).

TEST_CASE("a missing table is created 0600, full size, and opened again by the next process") {
  temp_dir dir;
  std::string why;
  auto t = pp::detail::lease_table_file::open(dir.where(), why);
  REQUIRE_MESSAGE(t, why);
  struct stat st {};
  REQUIRE(::stat((dir.path / "table").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(st.st_uid == ::geteuid());
  CHECK(st.st_nlink == 1);
  CHECK(static_cast<std::size_t>(st.st_size) == pp::detail::lease_table_file::file_size);
  // Fully allocated: no page can raise SIGBUS on a full tmpfs later.
  CHECK(static_cast<std::size_t>(st.st_blocks) * 512 >= pp::detail::lease_table_file::file_size);
  // A second mapping sees the first one's claims.
  auto u = pp::detail::lease_table_file::open(dir.where(), why);
  REQUIRE_MESSAGE(u, why);
  const auto w = t->slots().claim(6000, boot0, 1000, 5);
  REQUIRE(w);
  CHECK(u->slots().load(6000) == *w);
  CHECK_FALSE(u->slots().claim(6000, boot0, 1000, 6));
  CHECK(fs::directory_iterator(dir.path) != fs::directory_iterator());  // the one file
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
}

TEST_CASE("unsafe or foreign files are refused, and left exactly as they were") {
  temp_dir dir;
  std::string why;
  auto good = pp::detail::lease_table_file::open(dir.where("good"), why);
  REQUIRE_MESSAGE(good, why);
  good.reset();
  const auto refuse = [&](const std::string& name, const char* expected) {
    CAPTURE(name);
    const fs::path p = dir.path / name;
    std::error_code ec;
    const bool file = fs::is_regular_file(fs::symlink_status(p, ec));
    const std::vector<char> before = file ? read_all(p) : std::vector<char>();
    struct stat st_before {};
    ::lstat(p.c_str(), &st_before);
    std::string reason;
    CHECK_FALSE(pp::detail::lease_table_file::open(dir.where(name), reason));
    CHECK_MESSAGE(reason.find(expected) != std::string::npos, reason);
    struct stat st_after {};
    ::lstat(p.c_str(), &st_after);
    CHECK(st_after.st_mode == st_before.st_mode);
    CHECK(st_after.st_size == st_before.st_size);
    CHECK(st_after.st_uid == st_before.st_uid);
    if (file) CHECK(read_all(p) == before);
  };

  SUBCASE("a symbolic link (to a good table)") {
    fs::create_symlink(dir.path / "good", dir.path / "link");
    refuse("link", "symbolic link");
  }
  SUBCASE("readable by others (mode 0666)") {
    fs::copy_file(dir.path / "good", dir.path / "open");
    ::chmod((dir.path / "open").c_str(), 0666);
    refuse("open", "mode");
  }
  SUBCASE("a second hard link") {
    fs::create_hard_link(dir.path / "good", dir.path / "twice");
    refuse("twice", "links");
  }
  SUBCASE("another size") {
    std::ofstream(dir.path / "small") << "not a table";
    ::chmod((dir.path / "small").c_str(), 0600);
    refuse("small", "size");
  }
  SUBCASE("an empty file") {
    std::ofstream(dir.path / "empty");
    ::chmod((dir.path / "empty").c_str(), 0600);
    refuse("empty", "size");
  }
  SUBCASE("the right size, but not a table (wrong magic)") {
    {
      std::ofstream out(dir.path / "zeros", std::ios::binary);
      const std::vector<char> zeros(pp::detail::lease_table_file::file_size, 0);
      out.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
    }
    ::chmod((dir.path / "zeros").c_str(), 0600);
    refuse("zeros", "not a portprobe lease table");
  }
  SUBCASE("a table from before the last boot (another boot id)") {
    fs::copy_file(dir.path / "good", dir.path / "old");
    ::chmod((dir.path / "old").c_str(), 0600);
    {
      std::fstream f(dir.path / "old", std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(16);
      f.write("00000000-0000-0000-0000-000000000000", 36);
    }
    refuse("old", "before the last boot");
  }
  SUBCASE("a directory in its place") {
    fs::create_directory(dir.path / "dir");
    refuse("dir", "");
  }
  SUBCASE("owned by another user (as root: chown 65534)") {
    if (::geteuid() != 0) {
      MESSAGE("not root: the other-owner case needs chown");
      return;
    }
    fs::copy_file(dir.path / "good", dir.path / "theirs");
    ::chmod((dir.path / "theirs").c_str(), 0600);
    REQUIRE(::chown((dir.path / "theirs").c_str(), 65534, 65534) == 0);
    refuse("theirs", "owned by uid 65534");
  }
}

TEST_CASE("a missing or unusable directory creates nothing") {
  temp_dir dir;
  std::string why;
  pp::detail::lease_table_location where{(dir.path / "missing").string(), "table"};
  CHECK_FALSE(pp::detail::lease_table_file::open(where, why));
  CHECK_FALSE(why.empty());
  CHECK_FALSE(fs::exists(dir.path / "missing"));
  std::ofstream(dir.path / "file");
  where.directory = (dir.path / "file").string();
  why.clear();
  CHECK_FALSE(pp::detail::lease_table_file::open(where, why));
  CHECK(fs::is_regular_file(dir.path / "file"));
}

TEST_CASE("the default location: PORTPROBE_LOCK_DIR, and a name per user and network namespace") {
  std::string why;
  const auto where = pp::detail::default_lease_table_location(why);
  CHECK(why.empty());
  // test/main.cpp points PORTPROBE_LOCK_DIR at this program's own directory.
  CHECK(where.directory == std::getenv("PORTPROBE_LOCK_DIR"));
  struct stat ns {};
  REQUIRE(::stat("/proc/self/ns/net", &ns) == 0);
  CHECK(where.file_name == "portprobe-v1-u" + std::to_string(::geteuid()) + "-n" +
                               std::to_string(static_cast<unsigned long long>(ns.st_ino)));
}

// ---------------------------------------------------------------------------
// The registry's rules on an injected clock: claims, releases, expiry, renewal.

namespace {

struct registry_fixture {
  temp_dir dir;
  fake_clock clock;
  std::unique_ptr<pp::detail::registry> reg;  // this process, pid 100
  std::unique_ptr<pp::detail::registry> other;  // another process, pid 200, same table

  registry_fixture() {
    std::string why;
    auto a = pp::detail::lease_table_file::open(dir.where(), why);
    auto b = pp::detail::lease_table_file::open(dir.where(), why);
    REQUIRE_MESSAGE((a && b), why);
    reg = std::make_unique<pp::detail::registry>(clock, std::move(a), "", 100, false);
    other = std::make_unique<pp::detail::registry>(clock, std::move(b), "", 200, false);
  }
};

}  // namespace

TEST_CASE_FIXTURE(registry_fixture, "a claim is seen by this process and by the other one") {
  CHECK(reg->scope() == pp::lock_scope::user);
  const auto ticket = reg->claim(7000, 15s, false);
  REQUIRE(ticket);
  CHECK(*ticket != 0);
  CHECK_FALSE(reg->claim(7000, 15s, false));    // this process: locked
  CHECK_FALSE(other->claim(7000, 15s, false));  // the other process: its slot is held
  CHECK(other->claim(7001, 15s, false));
  // Released (a busy probe): both may take it again at once.
  reg->release(7000, *ticket);
  CHECK(other->claim(7000, 15s, false));
}

TEST_CASE_FIXTURE(registry_fixture, "a hold ends at its deadline for both; the timer forgets it") {
  REQUIRE(reg->claim(7100, 2s, false));
  REQUIRE(reg->next_wake());  // armed for the hold's end
  clock.advance(1999ms);
  CHECK(reg->is_locked(7100));
  CHECK_FALSE(other->claim(7100, 1s, false));
  clock.advance(1ms);
  CHECK_FALSE(reg->is_locked(7100));
  reg->tick();
  CHECK(reg->size() == 0);
  CHECK_FALSE(reg->next_wake());  // nothing left to wake up for
  CHECK(other->claim(7100, 1s, false));
}

TEST_CASE_FIXTURE(registry_fixture, "a zero hold takes nothing but respects other processes") {
  const auto t = reg->claim(7200, 0s, false);
  REQUIRE(t);
  CHECK(*t == 0);
  CHECK(reg->size() == 0);
  CHECK(other->claim(7200, 0s, false));  // nothing held: the other may take it
  REQUIRE(other->claim(7201, 10s, false));
  CHECK_FALSE(reg->claim(7201, 0s, false));  // held by the other: skipped
}

TEST_CASE_FIXTURE(registry_fixture, "a claim's release undoes only its own lock") {
  const auto first = reg->claim(7300, 1s, false);
  REQUIRE(first);
  clock.advance(1s);
  const auto second = reg->claim(7300, 10s, false);  // the first lapsed
  REQUIRE(second);
  reg->release(7300, *first);  // late: must not end the second
  CHECK(reg->is_locked(7300));
  CHECK_FALSE(other->claim(7300, 1s, false));
  reg->release(7300);  // release_port(): whichever claim made it
  CHECK_FALSE(reg->is_locked(7300));
  CHECK(other->claim(7300, 1s, false));
}

TEST_CASE_FIXTURE(registry_fixture, "release and clear never end another process's lease") {
  REQUIRE(other->claim(7400, 60s, false));
  reg->release(7400);
  reg->clear();
  CHECK_FALSE(reg->claim(7400, 1s, false));
  REQUIRE(reg->claim(7401, 60s, true));
  REQUIRE(reg->claim(7402, 60s, false));
  reg->clear();
  CHECK(reg->size() == 0);
  CHECK(other->claim(7401, 1s, false));
  CHECK(other->claim(7402, 1s, false));
}

TEST_CASE_FIXTURE(registry_fixture, "a reservation is renewed every 10 s while its process lives") {
  REQUIRE(reg->claim(7500, 1s, true));
  REQUIRE(reg->next_wake());
  for (int i = 0; i < 12; ++i) {  // two minutes of renewals
    clock.advance(10s);
    reg->tick();
    CHECK(reg->is_locked(7500));
    CHECK_FALSE(other->claim(7500, 1s, false));
  }
  const auto leases = pp::detail::held_leases(reg->table()->slots(), clock.boot);
  REQUIRE(leases.size() == 1);
  CHECK(leases[0].reserved);
  CHECK(leases[0].pid == 100);
  CHECK(leases[0].remaining <= 30s);
  CHECK(leases[0].remaining > 10s);
}

TEST_CASE_FIXTURE(registry_fixture, "a dead process's reservation ends within 30 s") {
  // `other` reserves, then dies: nothing renews it any more.
  REQUIRE(other->claim(7600, 1s, true));
  other.reset();
  clock.advance(29999ms);
  CHECK_FALSE(reg->claim(7600, 1s, false));
  clock.advance(1ms);
  CHECK(reg->claim(7600, 1s, false));
}

TEST_CASE_FIXTURE(registry_fixture, "a lapsed reservation taken by another process is dropped") {
  // This process was stopped for over 30 s: its lease lapsed and the other took it.
  REQUIRE(reg->claim(7700, 1s, true));
  clock.advance(31s);
  REQUIRE(other->claim(7700, 60s, false));
  reg->tick();  // the renewal finds another word: the reservation is lost
  CHECK_FALSE(reg->is_locked(7700));
  CHECK(reg->size() == 0);
  CHECK_FALSE(reg->claim(7700, 1s, false));  // and the other's lease stands
}

TEST_CASE("the process scope: locks stay in this process, leases() lists them") {
  fake_clock clock;
  pp::detail::registry reg(clock, nullptr, "PORTPROBE_LOCKS=process", 300, false);
  CHECK(reg.scope() == pp::lock_scope::process);
  CHECK(std::string(pp::to_string(reg.scope())) == "process");
  CHECK(std::string(pp::to_string(pp::lock_scope::user)) == "user");
  CHECK(reg.scope_reason() == "PORTPROBE_LOCKS=process");
  REQUIRE(reg.claim(7800, 5s, false));
  REQUIRE(reg.claim(7801, 5s, true));
  CHECK_FALSE(reg.claim(7800, 5s, false));
  const auto leases = reg.leases();
  REQUIRE(leases.size() == 2);
  CHECK(leases[0].port == 7800);
  CHECK(leases[0].pid == 300);
  CHECK(leases[0].remaining == 5s);
  CHECK(leases[1].reserved);
  clock.advance(5s);
  CHECK(reg.claim(7800, 5s, false));
  CHECK_FALSE(reg.claim(7801, 5s, false));  // reserved: until released
}
