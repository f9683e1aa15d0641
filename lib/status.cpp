#include <portprobe/status.hpp>

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
