// lib/connect.hpp: the connect probe's system calls, compiled in
// lib/. On loopback a non-blocking connect is usually decided within the
// connect call itself (refused, or the handshake done), so the probe reads the
// outcome at once and only a connect still in flight goes to the reactor.
#pragma once

#include <system_error>

#include "asio_lib.hpp"

#include "address_walk.hpp"  // connect_outcome

namespace portprobe::detail {

/// Maps an error of connect() (or SO_ERROR) to an outcome, as nmap does.
connect_outcome classify_connect(const error_code& ec, bool timed_out) noexcept;

struct connect_attempt {
  connect_outcome outcome = connect_outcome::filtered;
  int fd = -1;         ///< pending only: the socket, owned by the caller
  error_code ec;  ///< the error behind the outcome
};

/// Sockets whose connect was refused, kept for the next probe of one operation.
/// On Linux a TCP socket whose connect was refused (read with a second
/// connect()) is unconnected again, with no local port and no pending error,
/// and may connect again: a scan of closed ports then costs two connect() calls
/// a port instead of socket, connect, getsockopt and close. Not kept: an IPv6
/// socket refused by a v4-mapped or a scoped address (the kernel keeps its
/// IPv4 handling, or its interface). One per address family; closed by
/// close_all() or the destructor, so none outlives the operation that owns it.
class spare_sockets {
 public:
  spare_sockets() = default;
  spare_sockets(const spare_sockets&) = delete;
  spare_sockets& operator=(const spare_sockets&) = delete;
  ~spare_sockets() { close_all(); }

  /// A spare socket of `family` (AF_INET, AF_INET6), or -1; the caller owns it.
  int take(int family) noexcept;
  /// Keeps `fd` (a socket of `family` whose connect was refused), or closes it
  /// when a spare of that family is already kept.
  void give(int family, int fd) noexcept;
  void close_all() noexcept;
  /// Sockets kept now (0, 1 or 2).
  int size() const noexcept { return (v4_ >= 0) + (v6_ >= 0); }

 private:
  int v4_ = -1;
  int v6_ = -1;
};

/// Connects a non-blocking, close-on-exec socket to `endpoint`: a spare of
/// `spares` when there is one, else a new one. Unless pending, the outcome is
/// final and the socket is closed (a connection with a reset: SO_LINGER {1, 0},
/// so no TIME_WAIT is left) or, refused, given to `spares`.
connect_attempt start_connect(const asio::ip::tcp::endpoint& endpoint,
                              spare_sockets* spares = nullptr) noexcept;

/// The outcome of a pending connect once its socket is writable (or the
/// timeout passed). Does not close `fd`; sets the reset-on-close option when
/// the connect succeeded.
connect_outcome finish_connect(int fd, const asio::ip::tcp::endpoint& endpoint, bool timed_out,
                               error_code& ec) noexcept;

}  // namespace portprobe::detail
