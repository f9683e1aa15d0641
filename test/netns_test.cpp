#include <portprobe/portprobe.hpp>

// Runs inside a network and mount namespace made for it (test/netns/run.sh):
// its loopback is its own, so it may connect to every port of it; its
// /etc/hosts and /etc/resolv.conf are files it writes, so host names resolve
// without any lookup leaving the namespace. It refuses to run outside one.
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <future>
#include <set>
#include <sstream>

#include <netinet/in.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netns/namespace.hpp"
#include "support.hpp"
#include "cli_support.hpp"
#include "http_server.hpp"

namespace pp = portprobe;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {


// Puts `text` over `target` for this mount namespace only.
void overlay(const char* target, const std::string& text, const std::string& temp) {
  std::ofstream(temp) << text;
  REQUIRE(::mount(temp.c_str(), target, nullptr, MS_BIND, nullptr) == 0);
}

// This namespace's /etc/hosts.
const std::string hosts_text =
    "127.0.0.1 localhost\n::1 localhost6\n127.0.0.1 dual.test\n::1 dual.test\n::1 six.test\n";

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
    overlay("/etc/hosts", hosts_text, dir + "/hosts");
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
  pp::error_code ec = asio::error::would_block;
  std::vector<pp::port_report> reports;
  const auto start = clock_type::now();
  pp::async_scan(fx.io, pp::port_numbers(1024, 65535),
                 [&](pp::error_code e, std::vector<pp::port_report> r) {
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
  pp::async_find_port_in_use(fx.io, list, [&](pp::error_code ec, std::optional<std::uint16_t> p) {
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
    pp::error_code ec;
    pp::port_status status = pp::port_status::open;
    pp::async_check_status(fx.io, port, options, [&](pp::error_code e, pp::port_status s) {
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
  pp::error_code ec;
  pp::async_check_status(fx.io, 80, options, [&](pp::error_code e, pp::port_status) { ec = e; });
  fx.run(std::chrono::seconds(60));
  CHECK(ec);
  MESSAGE("resolver error: " << ec.message());
}

namespace {

/// The namespace's name server (resolv.conf says 127.0.0.1): a UDP socket on
/// 127.0.0.1:53 that answers every query "no such name" (NXDOMAIN) and counts
/// them. A query seen is a lookup the hosts file could not answer.
struct nxdomain_server {
  int fd = -1;
  int queries = 0;

  nxdomain_server() {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(53);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE_MESSAGE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0,
                    "bind 127.0.0.1:53: ", std::strerror(errno));
  }
  nxdomain_server(const nxdomain_server&) = delete;
  nxdomain_server& operator=(const nxdomain_server&) = delete;
  ~nxdomain_server() { ::close(fd); }

  /// Answers the queries that arrive within `within`; true if there was one.
  bool answer(std::chrono::milliseconds within) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(within.count())) != 1) return false;
    std::array<unsigned char, 512> q{};
    sockaddr_storage from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = ::recvfrom(fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 12) return false;
    // The answer: the query's id and question, QR set, RD echoed, RA, rcode 3
    // (NXDOMAIN), no records. The question ends after its name's zero label
    // and 4 bytes of type and class.
    std::size_t end = 12;
    while (end < static_cast<std::size_t>(n) && q[end] != 0) end += q[end] + 1u;
    end = std::min(end + 5, static_cast<std::size_t>(n));
    std::array<unsigned char, 512> r{};
    std::copy(q.begin(), q.begin() + static_cast<std::ptrdiff_t>(end), r.begin());
    r[2] = static_cast<unsigned char>(0x80 | (q[2] & 0x79));
    r[3] = 0x83;
    r[4] = 0;
    r[5] = 1;
    for (std::size_t i = 6; i < 12; ++i) r[i] = 0;
    (void)::sendto(fd, r.data(), end, 0, reinterpret_cast<sockaddr*>(&from), from_len);
    ++queries;
    return true;
  }
};

/// Writes `text` over this namespace's /etc/hosts (the overlay's own file, in
/// place); puts the original back when it goes.
struct hosts_file {
  hosts_file() = default;
  hosts_file(const hosts_file&) = delete;
  hosts_file& operator=(const hosts_file&) = delete;
  ~hosts_file() { write(hosts_text); }
  static void write(const std::string& text) {
    std::ofstream out("/etc/hosts", std::ios::trunc);
    out << text;
    out.close();
    REQUIRE(out.good());
  }
};

}  // namespace

TEST_CASE("cli wait: a name that resolves late (a container starting) is waited for, TCP and HTTP") {
  REQUIRE(in_namespace());
  asio::io_context io;
  auto listener = test::listen_on(io, "127.0.0.1");
  test::http_server web(200);
  nxdomain_server dns;
  hosts_file restore;
  const std::string name = "late.test";  // in no hosts file yet: the name server is asked
  auto cli = std::async(std::launch::async, [&] {
    return test::run_cli({"wait", name + ":" + test::str(test::port_of(listener)),
                          "http://" + name + ":" + test::str(web.port()) + "/", "--timeout", "60s",
                          "--interval", "20ms"});
  });
  // The CLI asks the name server: the hosts file had no answer. Bounded: 30 s.
  bool asked = false;
  for (int slice = 0; slice < 300 && !asked; ++slice) {
    asked = dns.answer(std::chrono::milliseconds(100));
    if (!asked && cli.wait_for(0s) == std::future_status::ready) {
      FAIL("the CLI ended before it asked for the name: ", cli.get().describe());
    }
  }
  REQUIRE(asked);
  // That lookup was answered "no such name", so the CLI is retrying; it must
  // still be waiting. Then the name appears.
  CHECK(cli.wait_for(0s) == std::future_status::timeout);
  hosts_file::write(hosts_text + "127.0.0.1 " + name + "\n");
  // Queries still in flight are answered too, until the CLI is done (bounded).
  for (int slice = 0; slice < 600 && cli.wait_for(0s) != std::future_status::ready; ++slice) {
    dns.answer(std::chrono::milliseconds(50));
  }
  const test::cli_result r = cli.get();
  INFO(r.describe());
  CHECK(r.exited);
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  CHECK(r.elapsed < 50s);
  CHECK_FALSE(web.requests().empty());  // the HTTP target was asked, once its name resolved
  MESSAGE(dns.queries << " lookups answered NXDOMAIN before and while the name appeared");
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
    pp::error_code ec = asio::error::would_block;
    pp::port_status status = pp::port_status::open;
    pp::async_check_status(fx.io, port, options, [&](pp::error_code e, pp::port_status s) {
      ec = e;
      status = s;
    });
    fx.run();
    return std::pair{ec, status};
  };
  const auto open = check(v4.local_endpoint().port());
  const auto refused_here = check(closed);
  std::ofstream("/proc/sys/net/ipv6/conf/lo/disable_ipv6") << "0\n";
  CHECK(open == std::pair{pp::error_code(), pp::port_status::open});
  // 127.0.0.1 refuses, ::1 cannot be reached: not every address refused.
  CHECK(refused_here == std::pair{pp::error_code(), pp::port_status::filtered});
}
