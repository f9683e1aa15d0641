#include <portprobe/owners.hpp>

#include "netns/namespace.hpp"
#include "support.hpp"

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <fstream>
#include <optional>
#include <sstream>

#include "asio.hpp"

#include "proc_net.hpp"

namespace pp = portprobe;
using pp::detail::proc_net_table;

// A suite of its own: test/netns/run.sh runs it alone where no namespace can be made.
TEST_SUITE_BEGIN("owners");

namespace {

// ---------------------------------------------------------------------------
// Sample tables, as an x86 (little-endian) kernel prints them. Port 8080 is
// 1F90; 127.0.0.1 is 0100007F (the address as a number in host byte order).

// A server on 127.0.0.1:8080 and on 192.168.0.10:8080, sshd on 0.0.0.0:22; the
// server accepted a client 127.0.0.1:50000 (C350) whose own socket is there
// too; a connection ended in TIME_WAIT (inode 0); a line cut short; a line
// with a bad digit; a line with an IPv6-wide address.
constexpr std::string_view tcp_sample =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     \n"
    "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0                       \n"
    "   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 620 1 0000000000000000 100 0 0 10 0                        \n"
    "   2: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 4343 1 0000000000000000 20 4 30 10 -1                     \n"
    "   3: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 4444 1 0000000000000000 20 4 30 10 -1                     \n"
    "   4: 0100007F:1F90 0100007F:C351 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000\n"
    "   5: 0100007F:1F90 0100007F:C352 01 00000000:00000000\n"
    "   6: 0100G07F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4646 1 0000000000000000 100 0 0 10 0\n"
    "   7: 00000000000000000000000001000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4747 1 0000000000000000 100 0 0 10 0\n"
    "   8: 0A00A8C0:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4545 1 0000000000000000 100 0 0 10 0";

// The same server on [::1]:8080 and on [::]:8080; a dual-stack socket's
// connection from 127.0.0.1 (v4-mapped); 2001:db8::1 (words B80D0120 ...
// 01000000) in CLOSE_WAIT with 2001:db8::2; an IPv4-wide line, not of this table.
constexpr std::string_view tcp6_sample =
    "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 5001 1 0000000000000000 100 0 0 10 0\n"
    "   1: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 5002 1 0000000000000000 100 0 0 10 0\n"
    "   2: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 5003 1 0000000000000000 20 4 30 10 -1\n"
    "   3: B80D0120000000000000000001000000:1F90 B80D0120000000000000000002000000:01BB 08 00000000:00000000 00:00000000 00000000  1000        0 5004 1 0000000000000000 20 4 30 10 -1\n"
    "   4: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 5005 1 0000000000000000 100 0 0 10 0\n";

// A UDP socket bound to 127.0.0.1:8080, one connected to 127.0.0.1:53, and
// one on 127.0.0.1:53 (another port).
constexpr std::string_view udp_sample =
    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            \n"
    " 4739: 0100007F:1F90 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 6001 2 0000000000000000 0        \n"
    " 4740: 0100007F:1F90 0100007F:0035 01 00000000:00000000 00:00000000 00000000  1000        0 6002 2 0000000000000000 0        \n"
    " 4741: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 6003 2 0000000000000000 0        \n";

constexpr std::string_view udp6_sample =
    "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
    "  100: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 7001 2 0000000000000000 0\n";

std::vector<pp::detail::proc_net_socket> parse(std::string_view text, proc_net_table table,
                                               std::uint16_t port = 8080) {
  return pp::detail::parse_proc_net(text, table, port, std::endian::little);
}

asio::ip::address ip(const char* text) { return asio::ip::make_address(text); }

std::string describe(const std::vector<pp::port_owner>& owners) {
  std::ostringstream out;
  for (const auto& o : owners) {
    out << o.protocol << ' ' << o.address << ' ' << o.state << " pid " << o.pid << " ("
        << o.command << ")\n";
  }
  return out.str();
}

bool same(const pp::port_owner& a, const pp::port_owner& b) {
  return a.pid == b.pid && a.command == b.command && a.address == b.address &&
         a.state == b.state && a.protocol == b.protocol;
}

bool contains(const std::vector<pp::port_owner>& owners, const pp::port_owner& wanted) {
  return std::any_of(owners.begin(), owners.end(),
                     [&](const pp::port_owner& o) { return same(o, wanted); });
}

// This process's name as the kernel keeps it (/proc/self/comm, trimmed).
std::string own_command() {
  std::ifstream in("/proc/self/comm");
  std::string name;
  std::getline(in, name);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\n')) name.pop_back();
  return name;
}

}  // namespace

// ---------------------------------------------------------------------------
// Parsing, on sample text: no socket, no /proc.

TEST_CASE("parse_proc_net: IPv4 sockets whose local port is the port, in the order of the text") {
  // Port 8080: the listeners, the accepted connection and the TIME_WAIT. The
  // client's own socket (127.0.0.1:50000 -> :8080) matches only by its remote
  // port: not counted. The short line and the bad digit are skipped, and so is
  // the IPv6-wide address in an IPv4 table.
  const auto sockets = parse(tcp_sample, proc_net_table::tcp);
  REQUIRE(sockets.size() == 4);
  CHECK(sockets[0].address == ip("127.0.0.1"));
  CHECK(sockets[0].port == 8080);
  CHECK(sockets[0].state == "LISTEN");
  CHECK(sockets[0].inode == 4242);
  CHECK(sockets[0].protocol == "tcp");
  CHECK(sockets[1].address == ip("127.0.0.1"));
  CHECK(sockets[1].state == "ESTABLISHED");
  CHECK(sockets[1].inode == 4343);
  CHECK(sockets[2].state == "TIME_WAIT");
  CHECK(sockets[2].inode == 0);
  CHECK(sockets[3].address == ip("192.168.0.10"));
  CHECK(sockets[3].state == "LISTEN");
  CHECK(sockets[3].inode == 4545);

  // Port 50000: only the client's socket (local), not the server's connection
  // to it (remote).
  const auto client = parse(tcp_sample, proc_net_table::tcp, 50000);
  REQUIRE(client.size() == 1);
  CHECK(client[0].inode == 4444);
  CHECK(client[0].state == "ESTABLISHED");

  // Port 22: sshd on every address.
  const auto ssh = parse(tcp_sample, proc_net_table::tcp, 22);
  REQUIRE(ssh.size() == 1);
  CHECK(ssh[0].address == ip("0.0.0.0"));
  CHECK(ssh[0].inode == 620);

  // A port nobody holds.
  CHECK(parse(tcp_sample, proc_net_table::tcp, 8081).empty());
}

TEST_CASE("parse_proc_net: IPv6 addresses are four words, each in host byte order") {
  const auto sockets = parse(tcp6_sample, proc_net_table::tcp6);
  REQUIRE(sockets.size() == 4);
  CHECK(sockets[0].address == ip("::1"));
  CHECK(sockets[0].state == "LISTEN");
  CHECK(sockets[0].protocol == "tcp6");
  CHECK(sockets[1].address == ip("::"));
  // A dual-stack socket's IPv4 connection: the address stays v4-mapped IPv6.
  CHECK(sockets[2].address == ip("::ffff:127.0.0.1"));
  CHECK(sockets[2].address.to_v6().is_v4_mapped());
  CHECK(sockets[2].state == "ESTABLISHED");
  CHECK(sockets[3].address == ip("2001:db8::1"));
  CHECK(sockets[3].state == "CLOSE_WAIT");
  CHECK(sockets[3].inode == 5004);
  // The IPv4-wide line does not belong to this table: skipped.
  CHECK(std::none_of(sockets.begin(), sockets.end(),
                     [](const auto& s) { return s.inode == 5005; }));
}

TEST_CASE("parse_proc_net: UDP sockets are UNCONN when bound, ESTABLISHED when connected") {
  const auto sockets = parse(udp_sample, proc_net_table::udp);
  REQUIRE(sockets.size() == 2);
  CHECK(sockets[0].address == ip("127.0.0.1"));
  CHECK(sockets[0].state == "UNCONN");
  CHECK(sockets[0].protocol == "udp");
  CHECK(sockets[0].inode == 6001);
  CHECK(sockets[1].state == "ESTABLISHED");

  const auto v6 = parse(udp6_sample, proc_net_table::udp6);
  REQUIRE(v6.size() == 1);
  CHECK(v6[0].address == ip("::"));
  CHECK(v6[0].state == "UNCONN");
  CHECK(v6[0].protocol == "udp6");
}

TEST_CASE("parse_proc_net: a big-endian kernel prints addresses in network order") {
  constexpr std::string_view tcp =
      "  sl  local_address rem_address   st\n"
      "   0: 7F000001:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11 1\n";
  const auto v4 = pp::detail::parse_proc_net(tcp, proc_net_table::tcp, 8080, std::endian::big);
  REQUIRE(v4.size() == 1);
  CHECK(v4[0].address == ip("127.0.0.1"));

  constexpr std::string_view tcp6 =
      "   0: 20010DB8000000000000000000000001:1F90 00000000000000000000000000000000:0000 0A "
      "00000000:00000000 00:00000000 00000000     0        0 12 1\n";
  const auto v6 = pp::detail::parse_proc_net(tcp6, proc_net_table::tcp6, 8080, std::endian::big);
  REQUIRE(v6.size() == 1);
  CHECK(v6[0].address == ip("2001:db8::1"));
}

TEST_CASE("parse_proc_net: empty text, a header alone, garbage: nothing") {
  CHECK(parse("", proc_net_table::tcp).empty());
  CHECK(parse("  sl  local_address rem_address   st tx_queue rx_queue\n", proc_net_table::tcp)
            .empty());
  CHECK(parse("\n\n   \n", proc_net_table::tcp).empty());
  CHECK(parse("0: 0100007F:1F90\n", proc_net_table::tcp).empty());
  CHECK(parse("x: 0100007F:1F90 00000000:0000 0A 0:0 0:0 0 0 0 1\n", proc_net_table::tcp).empty());
  // Every field there, but the inode is not a number.
  CHECK(parse("0: 0100007F:1F90 00000000:0000 0A 0:0 0:0 0 0 0 x1\n", proc_net_table::tcp).empty());
  // The shortest well-formed line, for comparison.
  CHECK(parse("0: 0100007F:1F90 00000000:0000 0A 0:0 0:0 0 0 0 1\n", proc_net_table::tcp).size() ==
        1);
}

TEST_CASE("socket_state_name: the kernel's TCP states, UNCONN for a bound UDP socket") {
  constexpr std::array<std::string_view, 12> names = {
      "ESTABLISHED", "SYN_SENT", "SYN_RECV",   "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
      "CLOSE",       "CLOSE_WAIT", "LAST_ACK", "LISTEN",    "CLOSING",   "NEW_SYN_RECV",
  };
  for (unsigned st = 1; st <= names.size(); ++st) {
    CHECK(pp::detail::socket_state_name(proc_net_table::tcp6, st) == names[st - 1]);
  }
  CHECK(pp::detail::socket_state_name(proc_net_table::udp, 0x07) == "UNCONN");
  CHECK(pp::detail::socket_state_name(proc_net_table::udp6, 0x07) == "UNCONN");
  CHECK(pp::detail::socket_state_name(proc_net_table::udp, 0x01) == "ESTABLISHED");
  CHECK(pp::detail::socket_state_name(proc_net_table::tcp, 0) == "UNKNOWN");
  CHECK(pp::detail::socket_state_name(proc_net_table::tcp, 0x0D) == "UNKNOWN");
}

TEST_CASE("socket_inode: the inode of a socket link, 0 for anything else") {
  CHECK(pp::detail::socket_inode("socket:[662270]") == 662270);
  CHECK(pp::detail::socket_inode("socket:[18446744073709551615]") == 18446744073709551615u);
  CHECK(pp::detail::socket_inode("pipe:[662270]") == 0);
  CHECK(pp::detail::socket_inode("/dev/null") == 0);
  CHECK(pp::detail::socket_inode("socket:[]") == 0);
  CHECK(pp::detail::socket_inode("socket:[12a]") == 0);
  CHECK(pp::detail::socket_inode("socket:[-1]") == 0);
  CHECK(pp::detail::socket_inode("socket:[12") == 0);
  CHECK(pp::detail::socket_inode("anon_inode:[eventpoll]") == 0);
}

TEST_CASE("join_owners: one entry per process that holds a socket, pid 0 where none is known") {
  // The listener (inode 4242) is held by a server (pid 300) and the worker it
  // forked (pid 200), the server through two descriptors; the connection
  // (4343) by the worker; the TIME_WAIT has no inode; the listener on
  // 192.168.0.10 (4545) belongs to a process this user may not look into.
  const auto sockets = parse(tcp_sample, proc_net_table::tcp);
  std::vector<pp::detail::socket_holder> holders = {
      {4242, 300, "server"},
      {4343, 200, "worker"},
      {4242, 200, "worker"},
      {4242, 300, "server"},
  };
  const auto owners = pp::detail::join_owners(sockets, holders);
  INFO(describe(owners));
  REQUIRE(owners.size() == 5);
  CHECK(same(owners[0], {200, "worker", ip("127.0.0.1"), "LISTEN", "tcp"}));
  CHECK(same(owners[1], {300, "server", ip("127.0.0.1"), "LISTEN", "tcp"}));
  CHECK(same(owners[2], {200, "worker", ip("127.0.0.1"), "ESTABLISHED", "tcp"}));
  CHECK(same(owners[3], {0, "", ip("127.0.0.1"), "TIME_WAIT", "tcp"}));
  CHECK(same(owners[4], {0, "", ip("192.168.0.10"), "LISTEN", "tcp"}));

  CHECK(pp::detail::join_owners({}, holders).empty());
}

// ---------------------------------------------------------------------------
// Real sockets, on loopback only.
//
// meson runs this program in a network namespace of its own (test/netns/run.sh),
// so /proc/net lists this program's sockets alone: on a shared loopback another
// process's socket may take P (a connect's local port, a TIME_WAIT, a sweep's
// probe) between the moment the OS gives P out and the read of /proc. Run by
// hand outside one, the tests still run, and say so.

namespace {

bool isolated() { return test::isolated_network(); }

struct isolated_fixture : test::io_fixture {
  isolated_fixture() {
    if (!isolated()) MESSAGE("not in a network namespace of its own: other processes' sockets may show");
  }
};

// One port P held by this process three ways: TCP listeners on 127.0.0.1:P
// and [::1]:P, and a UDP socket bound to 127.0.0.1:P. The OS chooses P for the
// first listener; if [::1]:P or UDP P is taken, another P is tried.
struct held_port {
  std::uint16_t port = 0;
  std::optional<asio::ip::tcp::acceptor> v4;
  std::optional<asio::ip::tcp::acceptor> v6;  // none on a machine without ::1
  std::optional<asio::ip::udp::socket> udp;
};

held_port hold_port(asio::io_context& io) {
  bool have_v6 = true;
  for (int attempt = 0; attempt < 50; ++attempt) {
    held_port h;
    h.v4.emplace(test::listen_on(io, "127.0.0.1"));
    h.port = h.v4->local_endpoint().port();
    if (have_v6) {
      try {
        h.v6.emplace(test::listen_on(io, "::1", h.port));
      } catch (const pp::system_error& e) {
        if (e.code() == asio::error::address_in_use) continue;  // someone has [::1]:P
        have_v6 = false;  // no IPv6 loopback here: go on with IPv4 only
        MESSAGE("no listener on [::1]: " << e.code().message());
      }
    }
    h.udp.emplace(io, asio::ip::udp::v4());
    pp::error_code ec;
    h.udp->bind({ip("127.0.0.1"), h.port}, ec);
    if (ec) continue;  // UDP P is someone else's: try another P
    return h;
  }
  FAIL("no port found that 127.0.0.1, [::1] and UDP all had free");
  return {};
}

}  // namespace

TEST_CASE_FIXTURE(isolated_fixture, "port_owners: this process's listeners and UDP socket") {
  // This test holds P on 127.0.0.1 and [::1] (TCP, listening) and on 127.0.0.1
  // (UDP, bound): port_owners(P) lists the three, each with our pid and name.
  held_port held = hold_port(io);
  const int self = static_cast<int>(::getpid());
  const std::string command = own_command();
  REQUIRE_FALSE(command.empty());

  pp::error_code ec;
  const auto owners = pp::port_owners(held.port, ec);
  REQUIRE_FALSE(ec);
  INFO("port ", held.port, ":\n", describe(owners));
  CHECK(owners.size() == (held.v6 ? 3u : 2u));
  CHECK(contains(owners, {self, command, ip("127.0.0.1"), "LISTEN", "tcp"}));
  if (held.v6) CHECK(contains(owners, {self, command, ip("::1"), "LISTEN", "tcp6"}));
  CHECK(contains(owners, {self, command, ip("127.0.0.1"), "UNCONN", "udp"}));
}

TEST_CASE_FIXTURE(isolated_fixture,
                  "port_owners: an accepted connection is listed; the client's end is not") {
  // A listener on 127.0.0.1:P accepts a client from 127.0.0.1:Q. Both ends are
  // ours, but only the server's has P as its local port.
  auto listener = test::listen_on(io, "127.0.0.1");
  const std::uint16_t port = listener.local_endpoint().port();
  asio::ip::tcp::socket client(io);
  client.connect(listener.local_endpoint());
  asio::ip::tcp::socket served = listener.accept();
  const int self = static_cast<int>(::getpid());
  const std::string command = own_command();

  pp::error_code ec;
  auto owners = pp::port_owners(port, ec);
  REQUIRE_FALSE(ec);
  {
    INFO("port ", port, ":\n", describe(owners));
    CHECK(owners.size() == 2);
    CHECK(contains(owners, {self, command, ip("127.0.0.1"), "LISTEN", "tcp"}));
    CHECK(contains(owners, {self, command, ip("127.0.0.1"), "ESTABLISHED", "tcp"}));
  }

  // The server closes first (its FIN, read as end of file by the client), then
  // the client (its FIN, read as end of file by the server): the server's end
  // is now in TIME_WAIT, a socket no process holds: pid 0, no command.
  std::array<char, 1> byte{};
  served.shutdown(asio::socket_base::shutdown_send);
  asio::read(client, asio::buffer(byte), ec);
  REQUIRE(ec == asio::error::eof);
  client.close();
  asio::read(served, asio::buffer(byte), ec);
  REQUIRE(ec == asio::error::eof);
  served.close();

  owners = pp::port_owners(port, ec);
  REQUIRE_FALSE(ec);
  INFO("port ", port, ":\n", describe(owners));
  CHECK(owners.size() == 2);
  CHECK(contains(owners, {self, command, ip("127.0.0.1"), "LISTEN", "tcp"}));
  CHECK(contains(owners, {0, "", ip("127.0.0.1"), "TIME_WAIT", "tcp"}));
}

TEST_CASE_FIXTURE(isolated_fixture, "port_owners: a socket shared with a child is listed per process") {
  // A listener on 127.0.0.1:P; a forked child inherits it and waits on a pipe
  // (the fork has copied the descriptors by the time it returns). The listener
  // is listed twice: ours and the child's, with the same name.
  auto listener = test::listen_on(io, "127.0.0.1");
  const std::uint16_t port = listener.local_endpoint().port();
  std::array<int, 2> pipe_fds{};
  REQUIRE(::pipe(pipe_fds.data()) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child: wait until the parent closes its end, then leave at once.
    ::close(pipe_fds[1]);
    char c = 0;
    while (::read(pipe_fds[0], &c, 1) < 0 && errno == EINTR) {
    }
    ::_exit(0);
  }
  ::close(pipe_fds[0]);

  pp::error_code ec;
  const auto owners = pp::port_owners(port, ec);

  // Let the child go before checking anything.
  ::close(pipe_fds[1]);
  int status = 0;
  ::waitpid(child, &status, 0);

  REQUIRE_FALSE(ec);
  INFO("port ", port, ":\n", describe(owners));
  const std::string command = own_command();
  CHECK(owners.size() == 2);
  CHECK(contains(owners, {static_cast<int>(::getpid()), command, ip("127.0.0.1"), "LISTEN", "tcp"}));
  CHECK(contains(owners, {static_cast<int>(child), command, ip("127.0.0.1"), "LISTEN", "tcp"}));
}

TEST_CASE("port_owners: a port nobody holds gives an empty list and no error") {
  if (!isolated()) MESSAGE("not in a network namespace of its own: other processes' sockets may show");
  // The OS chooses P and the socket that took it closes: P is free again.
  const std::uint16_t port = test::os_port();
  pp::error_code ec = asio::error::would_block;
  const auto owners = pp::port_owners(port, ec);
  CHECK_FALSE(ec);
  INFO("port ", port, ":\n", describe(owners));
  CHECK(owners.empty());
}

TEST_CASE("join_owners: a socket that /proc lists twice (once per holder, as some kernels do) is one socket") {
  // The same listener line twice, held by two processes: two entries, not four.
  const std::string twice =
      std::string(tcp_sample) + std::string(tcp_sample.substr(tcp_sample.find('\n') + 1));
  const auto sockets = parse(twice, proc_net_table::tcp);
  std::vector<pp::detail::socket_holder> holders = {{4242, 300, "server"}, {4242, 200, "worker"}};
  const auto owners = pp::detail::join_owners(sockets, holders);
  INFO(describe(owners));
  std::size_t listeners = 0;
  for (const auto& o : owners) listeners += o.state == "LISTEN" && o.pid != 0;
  CHECK(listeners == 2);
}

TEST_SUITE_END();
