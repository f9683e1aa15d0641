#include <portprobe/status.hpp>

#include <cerrno>

#include <asio/error.hpp>

#include <portprobe/detail/status_op.hpp>

namespace portprobe {

std::string_view to_string(port_status status) noexcept {
  switch (status) {
    case port_status::open:
      return "open";
    case port_status::closed:
      return "closed";
    case port_status::filtered:
      return "filtered";
  }
  return "filtered";
}

namespace detail {

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
    default:  // ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, EACCES, EPERM...: nmap's "filtered"
      return connect_outcome::filtered;
  }
}

std::error_code os_error(const std::error_code& ec) noexcept {
  if (ec.category() == asio::error::get_system_category()) {
    return {ec.value(), std::system_category()};
  }
  return ec;
}

std::error_code validate(const check_options& options) noexcept {
  if (options.timeout <= std::chrono::milliseconds::zero()) return asio::error::invalid_argument;
  return {};
}

}  // namespace detail
}  // namespace portprobe
