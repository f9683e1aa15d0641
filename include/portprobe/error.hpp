// portprobe/error.hpp: the "portprobe" error category.
//
// Operations report OS errors as they are (a portprobe::error_code in the system category,
// comparable with std::errc and asio::error). The conditions below are portprobe's own.
#pragma once

#include <string>
#include <system_error>

#include <portprobe/config.hpp>

namespace portprobe {

/// Errors of portprobe's own, in the category named "portprobe".
enum class error {
  /// No port satisfied the request: every preferred port was busy, excluded or
  /// locked and `fallback` was false, or no port at all in 1024-65535 was left.
  no_available_port = 1,
};

#if PORTPROBE_BOOST_ASIO
using error_category_type = ::boost::system::error_category;
#else
using error_category_type = ::std::error_category;
#endif

/// The category of portprobe::error (a std::error_category, or a
/// boost::system::error_category in the Boost.Asio flavour). Its name() is
/// "portprobe". Thread-safe.
PORTPROBE_API const error_category_type& error_category() noexcept;

/// Makes an error_code of the "portprobe" category.
PORTPROBE_API error_code make_error_code(error e) noexcept;

}  // namespace portprobe

#if PORTPROBE_BOOST_ASIO
template <>
struct boost::system::is_error_code_enum<portprobe::error> : std::true_type {};
#else
template <>
struct std::is_error_code_enum<portprobe::error> : std::true_type {};
#endif
