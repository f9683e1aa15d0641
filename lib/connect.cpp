#include <portprobe/detail/connect.hpp>

#include <cerrno>

#include <asio/error.hpp>

#include <sys/socket.h>
#include <unistd.h>

namespace portprobe::detail {

namespace {

std::error_code errno_code(int e) { return {e, std::system_category()}; }

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

connect_outcome classify_connect(const std::error_code& ec, bool timed_out) noexcept {
  if (!ec) return connect_outcome::open;
  if (ec == asio::error::operation_aborted) {
    return timed_out ? connect_outcome::filtered : connect_outcome::aborted;
  }
  if (ec.category() != asio::error::get_system_category() &&
      ec.category() != std::system_category()) {
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

connect_attempt start_connect(const asio::ip::tcp::endpoint& endpoint) noexcept {
  connect_attempt a;
  const int fd = ::socket(endpoint.protocol().family(),
                          SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    a.ec = errno_code(errno);
    a.outcome = classify_connect(a.ec, false);
    return a;
  }
  if (::connect(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size())) == 0) {
    a.outcome = connected(fd, endpoint);
  } else if (errno != EINPROGRESS) {
    a.ec = errno_code(errno);
    a.outcome = classify_connect(a.ec, false);
  } else {
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
  }
  ::close(fd);
  return a;
}

connect_outcome finish_connect(int fd, const asio::ip::tcp::endpoint& endpoint, bool timed_out,
                               std::error_code& ec) noexcept {
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
  ec = timed_out ? std::error_code(asio::error::timed_out) : std::error_code(asio::error::operation_aborted);
  return timed_out ? connect_outcome::filtered : connect_outcome::aborted;
}

}  // namespace portprobe::detail
