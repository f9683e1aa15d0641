#include "probe.hpp"

#include <atomic>
#include <cerrno>
#include <fstream>

#include "asio_lib.hpp"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <unistd.h>

namespace portprobe::detail {

namespace {

std::atomic<std::uint64_t> probes_opened{0};

#if defined(__linux__)
constexpr probe_plan native_plan = probe_plan::automatic;
#else
constexpr probe_plan native_plan = probe_plan::per_address;
#endif
std::atomic<probe_plan> plan{native_plan};

// Whether the dual-stack wildcard `::` can be bound here: 1 yes, 0 no, -1 unknown.
std::atomic<int> dual_stack{-1};

// OS errors in detail::system_category(): equal to the std::errc conditions
// (EADDRNOTAVAIL == std::errc::address_not_available), which Asio's own system
// category does not map for every errno.
error_code last_error() { return errno_code(errno); }

bind_verdict classify_bind_error(int e) {
  switch (e) {
    case EADDRINUSE:
    case EACCES:
    case EPERM:
      return bind_verdict::busy;
    case EADDRNOTAVAIL:
    case EINVAL:
    case EAFNOSUPPORT:
      return bind_verdict::unavailable;
    default:
      return bind_verdict::failed;
  }
}

}  // namespace

void close_socket(int fd) noexcept {
  if (fd >= 0) ::close(fd);
}

namespace {

// SO_REUSEADDR; nothing on Windows, where it would let a socket steal a port in use.
bool set_reuse_address([[maybe_unused]] int fd) noexcept {
#if defined(_WIN32)
  return true;
#else
  const int on = 1;
  return ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0;
#endif
}

}  // namespace

bind_result bind_probe(const asio::ip::address& address, std::uint16_t port, after_probe then) {
  const bool keep = then == after_probe::keep;
  bind_result r;
  r.port = port;
  const asio::ip::tcp::endpoint endpoint(address, port);
  const int fd = ::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    r.ec = last_error();
    r.verdict = errno == EAFNOSUPPORT ? bind_verdict::unavailable : bind_verdict::failed;
    return r;
  }
  probes_opened.fetch_add(1, std::memory_order_relaxed);
  const int off = 0;
  bool ok = true;
  if (address.is_v6()) {
    ok = ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) == 0;
  }
  // A given port: SO_REUSEADDR, as servers set it, so that a port that only
  // TIME_WAIT connections hold counts as free. Port 0: not before the bind, so
  // the OS picks from its whole ephemeral range (Linux searches only half of it
  // for a SO_REUSEADDR socket: twice the picks of ports this process has
  // locked), and only a port that no socket holds at all.
  if (port != 0) ok = ok && set_reuse_address(fd);
  if (!ok) {
    r.ec = last_error();
    r.verdict = bind_verdict::failed;
  } else if (::bind(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0) {
    r.ec = last_error();
    r.verdict = classify_bind_error(errno);
  } else if (port == 0 && keep && !set_reuse_address(fd)) {
    // An OS pick kept as an acceptor is a server socket like any other: its
    // connections get SO_REUSEADDR too (set after the bind, which searched the
    // whole range).
    r.ec = last_error();
    r.verdict = bind_verdict::failed;
  } else if (::listen(fd, keep ? SOMAXCONN : 1) != 0) {
    r.ec = last_error();
    r.verdict = errno == EADDRINUSE ? bind_verdict::busy : bind_verdict::failed;
  } else {
    r.verdict = bind_verdict::free;
    if (port == 0) {
      asio::ip::tcp::endpoint bound;
      socklen_t size = static_cast<socklen_t>(bound.capacity());
      if (::getsockname(fd, bound.data(), &size) == 0) {
        r.port = bound.port();
      } else {
        r.ec = last_error();
        r.verdict = bind_verdict::failed;
      }
    }
  }
  if (keep && r.verdict == bind_verdict::free) {
    r.fd = fd;
  } else {
    ::close(fd);
  }
  return r;
}

std::vector<asio::ip::address> local_addresses(error_code& ec) {
  ec.clear();
  std::vector<asio::ip::address> result;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    ec = last_error();
    return result;
  }
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || (i->ifa_flags & IFF_UP) == 0) continue;
    asio::ip::address a;
    if (i->ifa_addr->sa_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      a = asio::ip::address_v4(ntohl(in->sin_addr.s_addr));
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      asio::ip::address_v6::bytes_type bytes;
      for (std::size_t b = 0; b < bytes.size(); ++b) bytes[b] = in6->sin6_addr.s6_addr[b];
      a = asio::ip::address_v6(bytes, in6->sin6_scope_id);
    } else {
      continue;
    }
    bool seen = false;
    for (const auto& known : result) seen = seen || known == a;
    if (!seen) result.push_back(a);
  }
  ::freeifaddrs(list);
  return result;
}

void set_probe_plan(probe_plan p) noexcept { plan.store(p); }
probe_plan current_probe_plan() noexcept { return plan.load(); }

std::vector<asio::ip::address> default_probe_targets() {
  const asio::ip::address any6 = asio::ip::address_v6::any();
  const asio::ip::address any4 = asio::ip::address_v4::any();
  if (plan.load() == probe_plan::automatic) {
    int dual = dual_stack.load(std::memory_order_relaxed);
    if (dual < 0) {
      // Once per process: can `::` be bound at all (IPv6 may be disabled)?
      const bind_result r = bind_probe(any6, 0, after_probe::close);
      dual = r.verdict == bind_verdict::unavailable ? 0 : 1;
      // Remembered only when the check itself worked (not on EMFILE, say).
      if (r.verdict == bind_verdict::free || r.verdict == bind_verdict::unavailable) {
        dual_stack.store(dual, std::memory_order_relaxed);
      }
    }
    return {dual != 0 ? any6 : any4};
  }
  std::vector<asio::ip::address> targets{any6, any4};
  error_code ec;
  for (const auto& a : local_addresses(ec)) targets.push_back(a);
  return targets;
}

error_code park_in_time_wait(const asio::ip::address& address, std::uint16_t port) {
  asio::ip::address target = address;
  if (target.is_unspecified()) {
    target = target.is_v6() ? asio::ip::address(asio::ip::address_v6::loopback())
                            : asio::ip::address(asio::ip::address_v4::loopback());
  }
  const asio::ip::tcp::endpoint endpoint(target, port);
  const int family = endpoint.protocol().family();
  int listener = -1;
  int client = -1;
  int accepted = -1;
  error_code ec;
  const auto fail = [&ec] { ec = last_error(); };
  do {
    listener = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0 || !set_reuse_address(listener) ||
        ::bind(listener, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0 ||
        ::listen(listener, 1) != 0) {
      fail();
      break;
    }
    client = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const timeval bound{1, 0};
    if (client < 0 || ::setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof bound) != 0 ||
        ::connect(client, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0) {
      fail();
      break;
    }
    // Established: the connection waits in the accept queue already.
    pollfd ready{listener, POLLIN, 0};
    if (::poll(&ready, 1, 1000) != 1) {
      ec = detail::make_errc(std::errc::timed_out);
      break;
    }
    accepted = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (accepted < 0) fail();
  } while (false);
  // The accepted side closes first: it is the one left in TIME_WAIT, on `port`.
  close_socket(accepted);
  close_socket(client);
  close_socket(listener);
  return ec;
}

std::pair<std::uint16_t, std::uint16_t> ephemeral_port_range() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  long low = 0;
  long high = 0;
  if (in >> low >> high && low >= 1 && low <= high && high <= 65535) {
    return {static_cast<std::uint16_t>(low), static_cast<std::uint16_t>(high)};
  }
  return {32768, 60999};
}

std::uint64_t probe_count() noexcept { return probes_opened.load(std::memory_order_relaxed); }

}  // namespace portprobe::detail
