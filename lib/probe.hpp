// lib/probe.hpp: the socket facts that get-port rests on. Compiled
// in lib/; the functions here are synchronous and never block (bind, listen and
// close return at once).
#pragma once

#include <cstdint>
#include <system_error>
#include <utility>
#include <vector>

#include "asio_lib.hpp"

namespace portprobe::detail {

/// What a bind+listen probe says of one address:port.
enum class bind_verdict {
  free,         ///< bound and listened
  busy,         ///< EADDRINUSE, or EACCES/EPERM (a port this process may not bind)
  unavailable,  ///< the address cannot be bound here: EADDRNOTAVAIL, EINVAL
                ///< (link-local IPv6 without scope), EAFNOSUPPORT (family disabled)
  failed,       ///< any other error (EMFILE, ENOBUFS...): in `ec`
};

struct bind_result {
  bind_verdict verdict = bind_verdict::failed;
  std::uint16_t port = 0;  ///< the port probed; for port 0, the one the OS chose
  error_code ec;      ///< the OS error behind busy/unavailable/failed
  int fd = -1;             ///< the listening socket, when kept
};

/// What becomes of a probe's socket once it is bound and listening.
enum class after_probe {
  close,  ///< closed before bind_probe() returns
  keep,   ///< returned in bind_result::fd, the caller's
};

/// Opens a TCP socket, sets SO_REUSEADDR for a given port (as servers do; for
/// port 0 only after the bind and only when kept, and never on Windows, where
/// it would let the socket steal a port in use), clears IPV6_V6ONLY on IPv6
/// sockets (so `::` is the dual-stack wildcard), binds address:port and listens.
/// The socket is closed before returning unless `then` is after_probe::keep,
/// in which case the caller owns `fd` (close-on-exec, blocking mode untouched).
bind_result bind_probe(const asio::ip::address& address, std::uint16_t port, after_probe then);

/// Closes a socket returned by bind_probe(..., after_probe::keep).
void close_socket(int fd) noexcept;

/// Every address of every local interface that is up (getifaddrs), IPv4 and
/// IPv6, link-local IPv6 ones with their scope. No duplicates.
std::vector<asio::ip::address> local_addresses(error_code& ec);

/// Where a default-host (empty `host`) probe binds.
enum class probe_plan {
  /// Linux: the dual-stack wildcard `::` alone already conflicts with a listener
  /// on any local address, IPv4 or IPv6; without IPv6, `0.0.0.0` alone does.
  automatic,
  /// `::`, `0.0.0.0` and every interface address, one probe each: what systems
  /// whose wildcard does not conflict with specific addresses (the BSDs) need.
  /// Chosen automatically there; selectable on Linux for tests.
  per_address,
};
void set_probe_plan(probe_plan plan) noexcept;
probe_plan current_probe_plan() noexcept;

/// The addresses a default-host probe binds, in order, for the current plan.
std::vector<asio::ip::address> default_probe_targets();

/// Leaves address:port in TIME_WAIT for about 60 s: listen (SO_REUSEADDR),
/// connect to it, accept, close the accepted side first, then the client. An
/// unspecified address stands for the loopback of its family. Meanwhile no
/// bind to port 0 and no outgoing connection takes the port, while a bind with
/// SO_REUSEADDR still succeeds. Synchronous: loopback answers at once (the
/// connect is bounded by a 1 s send timeout all the same).
error_code park_in_time_wait(const asio::ip::address& address, std::uint16_t port);

/// The OS's ephemeral port range (/proc/sys/net/ipv4/ip_local_port_range),
/// or 32768-60999 (Linux's default) when it cannot be read.
std::pair<std::uint16_t, std::uint16_t> ephemeral_port_range();

/// Number of probe sockets opened by this process (a statistic, for tests).
std::uint64_t probe_count() noexcept;

}  // namespace portprobe::detail
