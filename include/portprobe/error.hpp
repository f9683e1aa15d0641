// portprobe/error.hpp: the "portprobe" error category.
//
// Operations report OS errors as they are (a std::error_code in the system
// category, comparable with std::errc and asio::error). The conditions below are
// portprobe's own.
#pragma once

#include <string>
#include <system_error>

namespace portprobe {

/// Errors of portprobe's own, in the category named "portprobe".
enum class error {
  /// No port satisfied the request: every preferred port was busy, excluded or
  /// locked and `fallback` was false, or no port at all in 1024-65535 was left.
  no_available_port = 1,
};

/// The category of portprobe::error. Its name() is "portprobe". Thread-safe.
const std::error_category& error_category() noexcept;

/// Makes a std::error_code of the "portprobe" category.
std::error_code make_error_code(error e) noexcept;

}  // namespace portprobe

template <>
struct std::is_error_code_enum<portprobe::error> : std::true_type {};
