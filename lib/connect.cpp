#include "connect.hpp"

#include <cerrno>
#include <utility>

#include "asio_lib.hpp"

#include <sys/socket.h>
#include <unistd.h>

namespace portprobe::detail {

namespace {

// A connection of a socket to itself: on loopback, when nothing listens on a
// port of the ephemeral range, the kernel may pick that same port as the local
// one and the two halves of the handshake meet. Nothing listens there.
bool connected_to_itself(int fd, const asio::ip::tcp::endpoint& endpoint) {
  asio::ip::tcp::endpoint local;
  socklen_t size = static_cast<socklen_t>(local.capacity());
  return ::getsockname(fd, local.data(), &size) == 0 && local == endpoint;
}

connect_outcome connected(int fd, const asio::ip::tcp::endpoint& endpoint) {
  const linger reset{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  return connected_to_itself(fd, endpoint) ? connect_outcome::closed : connect_outcome::open;
}

}  // namespace

connect_outcome classify_connect(const error_code& ec, bool timed_out) noexcept {
  if (!ec) return connect_outcome::open;
  if (ec == asio::error::operation_aborted) {
    return timed_out ? connect_outcome::filtered : connect_outcome::aborted;
  }
  if (ec.category() != asio::error::get_system_category() &&
      ec.category() != detail::system_category()) {
    return connect_outcome::filtered;
  }
  switch (ec.value()) {
    case ECONNREFUSED:  // nothing listens: nmap's "closed"
    case ECONNRESET:
      return connect_outcome::closed;
    case EMFILE:  // out of a resource of this machine: try again later, never a status
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
    case EADDRNOTAVAIL:  // no local port left for the connect
    case EAGAIN:
      return connect_outcome::resource;
    default:  // ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, EACCES, EPERM, EAFNOSUPPORT...
      return connect_outcome::filtered;
  }
}

int spare_sockets::take(int family) noexcept {
  int& slot = family == AF_INET6 ? v6_ : v4_;
  return std::exchange(slot, -1);
}

void spare_sockets::give(int family, int fd) noexcept {
  int& slot = family == AF_INET6 ? v6_ : v4_;
  if (slot < 0) {
    slot = fd;
  } else {
    ::close(fd);
  }
}

void spare_sockets::close_all() noexcept {
  for (int* slot : {&v4_, &v6_}) {
    if (*slot >= 0) ::close(std::exchange(*slot, -1));
  }
}

namespace {

int new_socket(int family) noexcept {
  return ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

// Errors of connect() that are about the socket, not the destination.
bool spare_refused(int err) noexcept {
  return err == EISCONN || err == EALREADY || err == EINVAL || err == EBADF || err == ENOTSOCK ||
         err == EAFNOSUPPORT;
}

// A refused socket may be connected again to any address of its family, except
// where the kernel keeps state of the last destination that a refusal does not
// clear: an IPv6 socket that reached a v4-mapped address (it switched to IPv4
// handling) or a scoped (link-local) one (it is tied to that interface).
bool reusable_after(const asio::ip::tcp::endpoint& endpoint) noexcept {
  if (!endpoint.address().is_v6()) return true;
  const asio::ip::address_v6 a = endpoint.address().to_v6();
  return !a.is_v4_mapped() && a.scope_id() == 0;
}

int connect_to(int fd, const asio::ip::tcp::endpoint& endpoint) noexcept {
  return ::connect(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size()));
}

}  // namespace

connect_attempt start_connect(const asio::ip::tcp::endpoint& endpoint,
                              spare_sockets* spares) noexcept {
  connect_attempt a;
  const int family = endpoint.protocol().family();
  int fd = spares != nullptr ? spares->take(family) : -1;
  int rc = -1;
  int err = 0;
  if (fd >= 0) {
    rc = connect_to(fd, endpoint);
    err = errno;
    if (rc != 0 && spare_refused(err)) {
      // A spare that will not connect again: a new socket instead.
      ::close(fd);
      fd = -1;
    }
  }
  if (fd < 0) {
    fd = new_socket(family);
    if (fd < 0) {
      a.ec = errno_code(errno);
      a.outcome = classify_connect(a.ec, false);
      return a;
    }
    rc = connect_to(fd, endpoint);
    err = errno;
  }
  if (rc == 0) {
    a.outcome = connected(fd, endpoint);
  } else if (err != EINPROGRESS) {
    a.ec = errno_code(err);
    a.outcome = classify_connect(a.ec, false);
  } else {
#ifdef __linux__
    // On loopback the answer has usually come already. A second connect() reads
    // it: 0 once connected, the error (ECONNREFUSED...) once refused, which also
    // puts the socket back in its unconnected state (SO_ERROR would not), and
    // EALREADY while the handshake is still in flight.
    if (connect_to(fd, endpoint) == 0 || errno == EISCONN) {
      a.outcome = connected(fd, endpoint);
    } else if (errno == EALREADY || errno == EINPROGRESS) {
      a.outcome = connect_outcome::pending;
      a.fd = fd;
      return a;
    } else {
      a.ec = errno_code(errno);
      a.outcome = classify_connect(a.ec, false);
      if (spares != nullptr && a.ec.value() == ECONNREFUSED && reusable_after(endpoint)) {
        spares->give(family, fd);
        return a;
      }
    }
#else
    // On loopback the answer has usually come already: read it now.
    int error = 0;
    socklen_t size = sizeof error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
    if (error != 0) {
      a.ec = errno_code(error);
      a.outcome = classify_connect(a.ec, false);
    } else {
      sockaddr_storage peer{};
      socklen_t peer_size = sizeof peer;
      if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) == 0) {
        a.outcome = connected(fd, endpoint);
      } else {
        a.outcome = connect_outcome::pending;
        a.fd = fd;
        return a;
      }
    }
#endif
  }
  ::close(fd);
  return a;
}

connect_outcome finish_connect(int fd, const asio::ip::tcp::endpoint& endpoint, bool timed_out,
                               error_code& ec) noexcept {
  int error = 0;
  socklen_t size = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
  if (error != 0) {
    ec = errno_code(error);
    return classify_connect(ec, false);
  }
  sockaddr_storage peer{};
  socklen_t peer_size = sizeof peer;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) == 0) {
    ec.clear();
    return connected(fd, endpoint);
  }
  // Neither an error nor a connection: still in flight when the time ran out.
  ec = timed_out ? error_code(asio::error::timed_out) : error_code(asio::error::operation_aborted);
  return timed_out ? connect_outcome::filtered : connect_outcome::aborted;
}

}  // namespace portprobe::detail
