// Locks across processes, with real processes, in a network namespace of the
// test's own (test/netns/run.sh: the fixed range 30000-30100 is this
// namespace's alone) and a lease table of its own (test/main.cpp's
// PORTPROBE_LOCK_DIR, inherited by every process it starts): parallel
// processes, a SIGKILLed holder, fork, two network namespaces, the command line.
#include <portprobe/portprobe.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netns/namespace.hpp"
#include "support.hpp"

extern char** environ;

namespace pp = portprobe;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

// This program runs in a namespace of its own (checked once, before any socket).
void require_namespace() {
  REQUIRE_MESSAGE(test::isolated_network(), "not in a fresh network namespace of its own: run through meson test");
}

struct child {
  pid_t pid = -1;
  int out = -1;  // its stdout
};

// Starts argv[0] (searched on PATH) with stdout on a pipe, stdin and stderr on
// /dev/null, and this process's environment.
child start(const std::vector<std::string>& args) {
  std::vector<std::string> storage(args);
  std::vector<char*> argv;
  for (auto& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  ::posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  child c;
  const int e = ::posix_spawnp(&c.pid, argv[0], &actions, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (e != 0) ::close(fds[0]);
  REQUIRE_MESSAGE(e == 0, "posix_spawn ", args[0], ": ", std::strerror(e));
  c.out = fds[0];
  return c;
}

struct finished {
  int exit_status = -1;
  std::string out;
};

// Reads the child's stdout to its end and reaps it; kills it (by pid: it is
// ours) and fails past `limit`.
finished finish(child c, std::chrono::seconds limit = 120s) {
  finished f;
  const auto deadline = clock_type::now() + limit;
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    if (left <= 0ms) {
      ::kill(c.pid, SIGKILL);
      ::waitpid(c.pid, nullptr, 0);
      ::close(c.out);
      FAIL("a child ran past its time limit");
    }
    pollfd p{c.out, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    const ssize_t n = ::read(c.out, buf, sizeof buf);
    if (n <= 0) break;
    f.out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(c.out);
  int status = 0;
  REQUIRE(::waitpid(c.pid, &status, 0) == c.pid);
  f.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return f;
}

std::string env_path(const char* name) {
  const char* p = std::getenv(name);
  REQUIRE_MESSAGE(p != nullptr, name, " is not set: run this test through meson test");
  return p;
}

// The number after "key": in a flat JSON line.
long json_number(const std::string& line, const std::string& key) {
  const auto at = line.find("\"" + key + "\":");
  REQUIRE_MESSAGE(at != std::string::npos, key, " missing in ", line);
  return std::strtol(line.c_str() + at + key.size() + 3, nullptr, 10);
}

struct harness_result {
  long picks = 0;
  long collisions = 0;
  long errors = 0;
  long in_range = 0;
  std::set<std::string> scopes;
};

// 16 lock_worker processes at once, each taking 50 ports from 30000-30100 and
// binding each 0-20 ms later.
harness_result run_harness() {
  const std::string worker = env_path("PORTPROBE_LOCK_WORKER");
  std::vector<child> children;
  for (int i = 0; i < 16; ++i) {
    children.push_back(start({worker, "50", "30000", "30100", std::to_string(1000 + i)}));
  }
  harness_result r;
  for (auto& c : children) {
    const finished f = finish(c);
    CHECK(f.exit_status == 0);
    r.picks += json_number(f.out, "picks");
    r.collisions += json_number(f.out, "collisions");
    r.errors += json_number(f.out, "errors");
    r.in_range += json_number(f.out, "in_range");
    r.scopes.insert(f.out.find("\"scope\":\"user\"") != std::string::npos ? "user" : "process");
  }
  return r;
}

pp::get_port_options only(std::uint16_t port, std::chrono::milliseconds hold = 0ms) {
  pp::get_port_options o;
  o.port = port;
  o.fallback = false;
  o.hold = hold;
  return o;
}

const pp::port_lease* find_lease(const std::vector<pp::port_lease>& leases, std::uint16_t port) {
  for (const auto& l : leases) {
    if (l.port == port) return &l;
  }
  return nullptr;
}

// A port free now and leased by no process of this table (earlier tests leave
// leases of 15 s on ports the OS may pick again). Bounded.
std::uint16_t unleased_port() {
  for (int i = 0; i < 100; ++i) {
    const std::uint16_t p = test::os_port();
    pp::error_code ec;
    if (find_lease(pp::active_leases(ec), p) == nullptr && !ec) return p;
  }
  FAIL("no unleased port found");
  return 0;
}

// `n` consecutive ports free now and leased by no process of this table. Bounded.
std::uint16_t unleased_run(int n) {
  for (int i = 0; i < 100; ++i) {
    const std::uint16_t start = test::free_run(n);
    pp::error_code ec;
    const auto leases = pp::active_leases(ec);
    bool leased = ec.operator bool();
    for (int k = 0; k < n && !leased; ++k) {
      leased = find_lease(leases, static_cast<std::uint16_t>(start + k)) != nullptr;
    }
    if (!leased) return start;
  }
  FAIL("no unleased run of ports found");
  return 0;
}

// A child that takes `port` with `options`, reports it on a pipe and waits to
// be killed. Forked from this process: the child uses the library after fork().
pid_t holder(const pp::get_port_options& options, std::uint16_t& port) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    const auto [ec, p] = test::get_port_now(options);
    const std::uint16_t answer = ec ? 0 : p;
    (void)!::write(fds[1], &answer, sizeof answer);
    for (;;) ::pause();  // until the test kills it
  }
  ::close(fds[1]);
  pollfd p{fds[0], POLLIN, 0};
  REQUIRE(::poll(&p, 1, 30000) == 1);
  REQUIRE(::read(fds[0], &port, sizeof port) == static_cast<ssize_t>(sizeof port));
  ::close(fds[0]);
  return pid;
}

void kill_child(pid_t pid) {
  REQUIRE(::kill(pid, SIGKILL) == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
}

}  // namespace

TEST_CASE("the lease table is in use: this program's own, in its own directory") {
  require_namespace();
  CHECK(pp::current_lock_scope() == pp::lock_scope::user);
  CHECK(pp::lock_scope_reason().empty());
  CHECK(pp::lock_table_path().rfind(env_path("PORTPROBE_LOCK_DIR") + "/portprobe-v1-u", 0) == 0);
}

TEST_CASE("16 processes x 50 picks from one range: 0 collisions with the table, many without") {
  require_namespace();
  const harness_result shared = run_harness();
  CHECK(shared.scopes == std::set<std::string>{"user"});
  CHECK(shared.picks == 800);
  CHECK(shared.errors == 0);
  CHECK(shared.collisions == 0);
  CHECK(shared.in_range > 0);
  MESSAGE("with the table: ", shared.collisions, " collisions of ", shared.picks,
          " picks, ", shared.in_range, " in the range");

  // The same harness with in-process locks only sees collisions: it can see them.
  ::setenv("PORTPROBE_LOCKS", "process", 1);
  const harness_result alone = run_harness();
  ::unsetenv("PORTPROBE_LOCKS");
  CHECK(alone.scopes == std::set<std::string>{"process"});
  CHECK(alone.errors == 0);
  CHECK(alone.collisions > 0);
  MESSAGE("PORTPROBE_LOCKS=process: ", alone.collisions, " collisions of ", alone.picks);
}

TEST_CASE("a SIGKILLed holder's lease lasts its hold, then the port is free again") {
  require_namespace();
  const std::uint16_t p = unleased_port();
  std::uint16_t got = 0;
  const pid_t pid = holder(only(p, 3s), got);
  const auto reported = clock_type::now();
  REQUIRE(got == p);
  kill_child(pid);
  // Right after the kill the port is still leased: skipped without a probe.
  const auto [ec, port] = test::get_port_now(only(p));
  if (clock_type::now() - reported < 2s) {
    CHECK(ec == pp::error::no_available_port);
    pp::error_code lec;
    const auto leases = pp::active_leases(lec);
    const pp::port_lease* l = find_lease(leases, p);
    REQUIRE(l != nullptr);
    CHECK(l->pid == pid);
    CHECK_FALSE(l->reserved);
    CHECK(l->remaining <= 3s);
  }
  // Then the lease ends by itself, with nobody left to release it (bounded wait).
  bool free_again = false;
  for (int i = 0; i < 150 && !free_again; ++i) {
    free_again = test::get_port_now(only(p)).first == pp::error_code();
    if (!free_again) std::this_thread::sleep_for(100ms);
  }
  CHECK(free_again);
  CHECK(clock_type::now() - reported < 15s);
}

TEST_CASE("a SIGKILLed holder's reservation is no longer renewed: it ends within 30 s") {
  require_namespace();
  const std::uint16_t p = unleased_port();
  pp::get_port_options o = only(p);
  o.reserve = true;
  std::uint16_t got = 0;
  const pid_t pid = holder(o, got);
  REQUIRE(got == p);
  kill_child(pid);
  CHECK(test::get_port_now(only(p)).first == pp::error::no_available_port);
  pp::error_code ec;
  const auto leases = pp::active_leases(ec);
  REQUIRE_FALSE(ec);
  const pp::port_lease* l = find_lease(leases, p);
  REQUIRE(l != nullptr);
  CHECK(l->pid == pid);
  CHECK(l->reserved);
  CHECK(l->remaining <= 30s);  // and nothing renews it any more
}

TEST_CASE("after fork() the child works, and leaves the parent's leases alone") {
  require_namespace();
  pp::get_port_options reserved;
  reserved.reserve = true;
  const auto [rec, p] = test::get_port_now(reserved);
  REQUIRE_FALSE(rec);
  const auto [hec, q] = test::get_port_now({});
  REQUIRE_FALSE(hec);

  // Another thread is inside the registry as often as it can while we fork.
  std::atomic<bool> stop{false};
  std::thread busy([&] {
    for (int i = 0; i < 2000 && !stop; ++i) {
      pp::get_port_options o;
      o.hold = 0ms;
      (void)test::get_port_now(o);
    }
  });
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::alarm(60);  // a hang in the child ends it
    int failures = 0;
    // The parent's leases are seen, and cannot be released from here.
    if (test::get_port_now(only(p)).first != pp::error::no_available_port) failures |= 1;
    pp::release_port(p);
    pp::clear_locked_ports();
    if (test::get_port_now(only(q)).first != pp::error::no_available_port) failures |= 2;
    // Two threads at once, each with its own io_context: every call completes.
    // (Not under ThreadSanitizer, which cannot follow threads started in the
    // child of a multi-threaded fork; the other builds run it.)
#if !defined(__SANITIZE_THREAD__)
    std::vector<std::uint16_t> ports[2];
    std::thread t[2];
    for (int k = 0; k < 2; ++k) {
      t[k] = std::thread([&, k] {
        for (int i = 0; i < 50; ++i) {
          const auto [ec, port] = test::get_port_now({});
          if (!ec) ports[k].push_back(port);
        }
      });
    }
    for (auto& th : t) th.join();
    std::set<std::uint16_t> all(ports[0].begin(), ports[0].end());
    all.insert(ports[1].begin(), ports[1].end());
    if (all.size() != 100 || all.count(p) || all.count(q)) failures |= 4;
    pp::error_code ec;
    for (const auto& l : pp::active_leases(ec)) {
      if (all.count(l.port) && l.pid != ::getpid()) failures |= 8;  // its own, under its pid
    }
#endif
    ::_exit(failures);
  }
  stop = true;
  busy.join();
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  pp::error_code ec;
  const auto leases = pp::active_leases(ec);
  const pp::port_lease* lp = find_lease(leases, p);
  const pp::port_lease* lq = find_lease(leases, q);
  REQUIRE(lp != nullptr);
  REQUIRE(lq != nullptr);
  CHECK(lp->pid == ::getpid());
  CHECK(lp->reserved);
  CHECK(lq->pid == ::getpid());
  pp::release_port(p);
  pp::release_port(q);
  CHECK(find_lease(pp::active_leases(ec), p) == nullptr);
}

TEST_CASE("two network namespaces each get port P: a table per namespace") {
  require_namespace();
  const std::string cli = env_path("PORTPROBE_CLI");
  const std::uint16_t p = unleased_port();
  const auto [ec, got] = test::get_port_now(only(p, 60s));
  REQUIRE_FALSE(ec);
  REQUIRE(got == p);
  // This namespace: P is leased (to this process), the command gets nothing.
  const finished here = finish(start({cli, "get", std::to_string(p), "--no-fallback"}));
  CHECK(here.exit_status == 1);
  CHECK(here.out.empty());
  // Another namespace has its own ports and its own table: P is free there.
  const finished there =
      finish(start({"unshare", "--net", "--", cli, "get", std::to_string(p), "--no-fallback"}));
  CHECK(there.exit_status == 0);
  CHECK(there.out == std::to_string(p) + "\n");
  pp::release_port(p);
}

TEST_CASE("PORT=$(portprobe get 31000-31100) in 16 parallel jobs: 16 distinct ports") {
  // (31000-31100: the harness above leaves 30000-30100 leased for 15 s.)
  require_namespace();
  const std::string cli = env_path("PORTPROBE_CLI");
  std::vector<child> jobs;
  for (int i = 0; i < 16; ++i) jobs.push_back(start({cli, "get", "31000-31100"}));
  std::set<long> ports;
  for (auto& j : jobs) {
    const finished f = finish(j);
    CHECK(f.exit_status == 0);
    const long port = std::strtol(f.out.c_str(), nullptr, 10);
    CHECK(port >= 31000);
    CHECK(port <= 31100);
    ports.insert(port);
  }
  CHECK(ports.size() == 16);
  // Their leases outlive the commands: `portprobe locks` lists every one.
  const finished locks = finish(start({cli, "locks", "--json"}));
  CHECK(locks.exit_status == 0);
  CHECK(locks.out.find("\"lock_scope\":\"user\"") != std::string::npos);
  for (const long port : ports) {
    CHECK_MESSAGE(locks.out.find("{\"port\":" + std::to_string(port) + ",") != std::string::npos,
                  port);
  }
  const finished table = finish(start({cli, "locks"}));
  CHECK(table.out.rfind("PORT", 0) == 0);
  CHECK(table.out.find("(exited)") != std::string::npos);
}

TEST_CASE("get --count N: N distinct ports, all or nothing") {
  require_namespace();
  const std::string cli = env_path("PORTPROBE_CLI");
  const finished three = finish(start({cli, "get", "--count", "3"}));
  CHECK(three.exit_status == 0);
  CHECK(std::count(three.out.begin(), three.out.end(), '\n') == 3);
  // Four free ports wanted from a list of three: nothing printed, exit 1, none locked.
  const std::uint16_t a = unleased_run(3);
  const std::string list = std::to_string(a) + "-" + std::to_string(a + 2);
  const finished none = finish(start({cli, "get", list, "--no-fallback", "--count", "4"}));
  CHECK(none.exit_status == 1);
  CHECK(none.out.empty());
  const finished all = finish(start({cli, "get", list, "--no-fallback", "--count", "3", "--json"}));
  CHECK(all.exit_status == 0);
  CHECK(all.out.find("\"ports\":[" + std::to_string(a) + "," + std::to_string(a + 1) + "," +
                     std::to_string(a + 2) + "]") != std::string::npos);
}

TEST_CASE("an unusable PORTPROBE_LOCK_DIR: locks stay in-process, get still works") {
  require_namespace();
  const std::string cli = env_path("PORTPROBE_CLI");
  const std::string dir = env_path("PORTPROBE_LOCK_DIR");
  const std::string missing = dir + "/no-such-dir";
  ::setenv("PORTPROBE_LOCK_DIR", missing.c_str(), 1);
  const finished get = finish(start({cli, "get"}));
  const finished locks = finish(start({cli, "locks", "--json"}));
  ::setenv("PORTPROBE_LOCK_DIR", dir.c_str(), 1);
  CHECK(get.exit_status == 0);
  CHECK(std::strtol(get.out.c_str(), nullptr, 10) >= 1024);
  CHECK(locks.exit_status == 0);
  CHECK(locks.out.find("\"lock_scope\":\"process\"") != std::string::npos);
  CHECK(locks.out.find("no-such-dir") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(missing));
}

TEST_CASE("an operation in flight at fork(): the child's copy never touches the parent's claims") {
  require_namespace();
  // The parent claims P (first of two ports), then forks before completing.
  // The child's copy of the operation goes on with the child's own registry:
  // P stays the parent's, and the child's answer never contains it.
  const std::uint16_t p = unleased_port();
  asio::io_context io;
  pp::get_port_options options;
  options.port = p;
  options.reserve = true;
  std::vector<std::uint16_t> answer;
  pp::error_code result = asio::error::would_block;
  pp::async_get_ports(io, 2, options, [&](pp::error_code ec, std::vector<std::uint16_t> ports) {
    result = ec;
    answer = std::move(ports);
  });
  io.run_one();
  io.run_one();  // P claimed by the parent
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::alarm(60);
    io.notify_fork(asio::io_context::fork_child);
    io.restart();
    io.run_for(30s);
    int failures = 0;
    if (result) {
      failures |= 1;
      std::fprintf(stderr, "child: %s\n", result.message().c_str());
    }
    if (std::find(answer.begin(), answer.end(), p) != answer.end()) failures |= 2;
    pp::error_code ec;
    const auto leases = pp::active_leases(ec);
    const pp::port_lease* lp = find_lease(leases, p);
    if (lp == nullptr || lp->pid != ::getppid()) failures |= 4;  // still the parent's
    ::_exit(failures);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  io.run_for(30s);
  REQUIRE_FALSE(result);
  REQUIRE(answer.size() == 2);
  CHECK(answer[0] == p);
  pp::error_code ec;
  const auto leases = pp::active_leases(ec);
  const pp::port_lease* lp = find_lease(leases, p);
  REQUIRE(lp != nullptr);
  CHECK(lp->pid == ::getpid());
  pp::clear_locked_ports();
}
