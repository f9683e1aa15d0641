// portprobe/detail/connect.hpp: the connect probe's system calls, compiled in
// lib/. On loopback a non-blocking connect is usually decided within the
// connect call itself (refused, or the handshake done), so the probe reads the
// outcome at once and only a connect still in flight goes to the reactor.
#pragma once

#include <system_error>

#include <asio/ip/tcp.hpp>

namespace portprobe::detail {

/// What a connect's outcome means for one address.
enum class connect_outcome {
  open,      ///< connected
  closed,    ///< refused (or reset, or a socket that met itself)
  filtered,  ///< no answer, unreachable, not permitted, family unusable
  resource,  ///< out of a resource of this machine (EMFILE, ENFILE, no local port): retry
  aborted,   ///< cancelled
  pending,   ///< still in flight: wait for the socket to become writable
};

/// Maps an error of connect() (or SO_ERROR) to an outcome, as nmap does.
connect_outcome classify_connect(const std::error_code& ec, bool timed_out) noexcept;

struct connect_attempt {
  connect_outcome outcome = connect_outcome::filtered;
  int fd = -1;         ///< pending only: the socket, owned by the caller
  std::error_code ec;  ///< the error behind the outcome
};

/// Opens a non-blocking, close-on-exec socket and connects it to `endpoint`.
/// Unless pending, the outcome is final and the socket is already closed (a
/// connection with a reset: SO_LINGER {1, 0}, so no TIME_WAIT is left).
connect_attempt start_connect(const asio::ip::tcp::endpoint& endpoint) noexcept;

/// The outcome of a pending connect once its socket is writable (or the
/// timeout passed). Does not close `fd`; sets the reset-on-close option when
/// the connect succeeded.
connect_outcome finish_connect(int fd, const asio::ip::tcp::endpoint& endpoint, bool timed_out,
                               std::error_code& ec) noexcept;

}  // namespace portprobe::detail
