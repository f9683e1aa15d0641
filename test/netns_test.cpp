#include <portprobe/portprobe.hpp>

// Runs inside a network and mount namespace made for it (test/netns/run.sh):
// its loopback is its own, so it may connect to every port of it; its
// /etc/hosts and /etc/resolv.conf are files it writes, so host names resolve
// without any lookup leaving the namespace. It refuses to run outside one.
#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netns/namespace.hpp"
#include "support.hpp"

namespace pp = portprobe;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {


// Puts `text` over `target` for this mount namespace only.
void overlay(const char* target, const std::string& text, const std::string& temp) {
  std::ofstream(temp) << text;
  REQUIRE(::mount(temp.c_str(), target, nullptr, MS_BIND, nullptr) == 0);
}

// Once per process: check the isolation, then set the namespace up.
struct isolated {
  isolated() {
    // Both namespaces or nothing: a mount made in the runner's mount namespace
    // would replace this machine's /etc/hosts and /etc/resolv.conf.
    isolated_ = test::isolated_network() && test::private_mount_namespace();
    if (!isolated_) return;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      isolated_ = false;
      return;
    }
    const std::string dir = std::filesystem::temp_directory_path() /
                            ("portprobe-netns-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    overlay("/etc/hosts",
            "127.0.0.1 localhost\n::1 localhost6\n127.0.0.1 dual.test\n::1 dual.test\n"
            "::1 six.test\n",
            dir + "/hosts");
    overlay("/etc/resolv.conf", "nameserver 127.0.0.1\n", dir + "/resolv.conf");
    std::filesystem::remove_all(dir);  // the mounts keep the two files
  }
  bool isolated_ = false;
};

bool in_namespace() {
  static const isolated once;
  return once.isolated_;
}

}  // namespace

TEST_CASE("this program runs in a network namespace of its own") {
  // Everything below connects to ports it did not open: never outside.
  REQUIRE_MESSAGE(in_namespace(),
                  "not in private network and mount namespaces: run via test/netns/run.sh");
}

TEST_CASE("a scan of the whole loopback 1024-65535: exactly what the test opened") {
  REQUIRE(in_namespace());
  test::io_fixture fx;
  std::vector<asio::ip::tcp::acceptor> servers;
  std::set<std::uint16_t> open;
  for (int i = 0; i < 5; ++i) {
    servers.push_back(test::listen_on(fx.io, "127.0.0.1"));
    open.insert(servers.back().local_endpoint().port());
  }
  test::black_hole hole;
  std::error_code ec = asio::error::would_block;
  std::vector<pp::port_report> reports;
  const auto start = clock_type::now();
  pp::async_scan(fx.io, pp::port_numbers(1024, 65535),
                 [&](std::error_code e, std::vector<pp::port_report> r) {
                   ec = e;
                   reports = std::move(r);
                 });
  fx.run(std::chrono::seconds(300));
  const auto seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  MESSAGE("scan of 1024-65535 on loopback: " << seconds << " s");
  REQUIRE_FALSE(ec);
  REQUIRE(reports.size() == 64512);
  int wrong = 0;
  std::uint32_t expected_port = 1024;
  for (const auto& r : reports) {
    pp::port_status want = pp::port_status::closed;
    if (open.count(r.port)) want = pp::port_status::open;
    if (r.port == hole.port) want = pp::port_status::filtered;
    if (r.status != want || r.port != expected_port) {
      if (++wrong < 10) MESSAGE("port " << r.port << ": " << pp::to_string(r.status));
    }
    ++expected_port;
  }
  CHECK(wrong == 0);  // a self-connect inside the ephemeral range would show as "open" here
}

TEST_CASE("find over the whole range: only the last port of the list is open") {
  REQUIRE(in_namespace());
  test::io_fixture fx;
  auto server = test::listen_on(fx.io, "127.0.0.1");
  const std::uint16_t port = server.local_endpoint().port();
  std::vector<std::uint16_t> list;
  for (std::uint32_t p = 1024; p <= 65535; ++p) {
    if (p != port) list.push_back(static_cast<std::uint16_t>(p));
  }
  list.push_back(port);
  std::optional<std::uint16_t> found;
  pp::async_find_port_in_use(fx.io, list, [&](std::error_code ec, std::optional<std::uint16_t> p) {
    CHECK_FALSE(ec);
    found = p;
  });
  fx.run(std::chrono::seconds(300));
  CHECK(found == port);
}

TEST_CASE("a name with several addresses: open if any accepts, closed if all refuse, else filtered") {
  REQUIRE(in_namespace());
  test::io_fixture fx;
  auto check = [&](const char* host, std::uint16_t port) {
    pp::check_options options;
    options.host = host;
    options.timeout = 200ms;
    std::error_code ec;
    pp::port_status status = pp::port_status::open;
    pp::async_check_status(fx.io, port, options, [&](std::error_code e, pp::port_status s) {
      ec = e;
      status = s;
    });
    fx.run();
    REQUIRE_FALSE(ec);
    return status;
  };
  // Open on ::1 only: dual.test (127.0.0.1 and ::1) is open.
  auto v6 = test::listen_on(fx.io, "::1");
  CHECK(check("dual.test", v6.local_endpoint().port()) == pp::port_status::open);
  CHECK(check("six.test", v6.local_endpoint().port()) == pp::port_status::open);
  // Open on 127.0.0.1 only: still open for dual.test, closed for six.test.
  auto v4 = test::listen_on(fx.io, "127.0.0.1");
  CHECK(check("dual.test", v4.local_endpoint().port()) == pp::port_status::open);
  // Silent on ::1, refused on 127.0.0.1: filtered (not every address refused).
  test::black_hole hole("::1");
  CHECK(check("dual.test", hole.port) == pp::port_status::filtered);
  // Nothing anywhere: closed.
  const std::uint16_t nothing = test::os_port();
  CHECK(check("dual.test", nothing) == pp::port_status::closed);
}

TEST_CASE("a name that does not resolve is an error, not a status") {
  REQUIRE(in_namespace());
  test::io_fixture fx;
  pp::check_options options;
  options.host = "nowhere.test";  // not in this namespace's hosts file; no DNS server here
  std::error_code ec;
  pp::async_check_status(fx.io, 80, options, [&](std::error_code e, pp::port_status) { ec = e; });
  fx.run(std::chrono::seconds(60));
  CHECK(ec);
  MESSAGE("resolver error: " << ec.message());
}

TEST_CASE("an address this host cannot reach (IPv6 switched off) is filtered, not an error") {
  // Last in this program: it switches IPv6 off on lo, then back on.
  REQUIRE(in_namespace());
  test::io_fixture fx;
  auto v4 = test::listen_on(fx.io, "127.0.0.1");
  const std::uint16_t closed = test::os_port();
  {
    std::ofstream off("/proc/sys/net/ipv6/conf/lo/disable_ipv6");
    off << "1\n";
  }
  auto check = [&](std::uint16_t port) {
    pp::check_options options;
    options.host = "dual.test";  // 127.0.0.1 and ::1; ::1 is gone now
    options.timeout = 200ms;
    std::error_code ec = asio::error::would_block;
    pp::port_status status = pp::port_status::open;
    pp::async_check_status(fx.io, port, options, [&](std::error_code e, pp::port_status s) {
      ec = e;
      status = s;
    });
    fx.run();
    return std::pair{ec, status};
  };
  const auto open = check(v4.local_endpoint().port());
  const auto refused_here = check(closed);
  std::ofstream("/proc/sys/net/ipv6/conf/lo/disable_ipv6") << "0\n";
  CHECK(open == std::pair{std::error_code(), pp::port_status::open});
  // 127.0.0.1 refuses, ::1 cannot be reached: not every address refused.
  CHECK(refused_here == std::pair{std::error_code(), pp::port_status::filtered});
}
