// portprobe/config.hpp: which Asio this build of portprobe is for, and the names that differ
// between the two flavours.
//
// Standalone Asio (the default): `asio::`, `std::error_code`. Boost.Asio: built with
// `meson setup -Dasio=boost` as libportprobe-boost, whose pkg-config file (`portprobe-boost`),
// CMake target (`portprobe::portprobe-boost`) and Meson dependency define
// PORTPROBE_USE_BOOST_ASIO=1 for their users. The headers are the same for both.
//
//   portprobe::error_code    std::error_code, or boost::system::error_code
//   portprobe::system_error  std::system_error, or boost::system::system_error
//
// so that code written with these names builds against either flavour.
#pragma once

#if defined(PORTPROBE_USE_BOOST_ASIO) && PORTPROBE_USE_BOOST_ASIO
#define PORTPROBE_BOOST_ASIO 1
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>
#else
#define PORTPROBE_BOOST_ASIO 0
#include <system_error>
#endif

// The library is built with hidden symbols: what its headers call is exported explicitly
// (default visibility, for its users too, whatever visibility they compile with), and
// nothing of Asio's (whose instantiations the library keeps to itself).
#define PORTPROBE_API __attribute__((visibility("default")))

#if PORTPROBE_BOOST_ASIO
namespace boost::asio {}
namespace portprobe {
/// The flavour's Asio namespace: inside portprobe, `asio::` names Boost.Asio.
namespace asio = ::boost::asio;
using error_code = ::boost::system::error_code;
using system_error = ::boost::system::system_error;
}  // namespace portprobe
namespace portprobe::detail {
inline const ::boost::system::error_category& system_category() noexcept {
  return ::boost::system::system_category();
}
inline const ::boost::system::error_category& generic_category() noexcept {
  return ::boost::system::generic_category();
}
}  // namespace portprobe::detail
#else
namespace portprobe {
using error_code = ::std::error_code;
using system_error = ::std::system_error;
}  // namespace portprobe
namespace portprobe::detail {
inline const ::std::error_category& system_category() noexcept { return ::std::system_category(); }
inline const ::std::error_category& generic_category() noexcept { return ::std::generic_category(); }
}  // namespace portprobe::detail
#endif

namespace portprobe::detail {
/// An OS error (errno), in the flavour's system category.
inline error_code errno_code(int e) noexcept { return error_code(e, system_category()); }
/// A std::errc condition as an error_code of the flavour's generic category.
inline error_code make_errc(::std::errc e) noexcept {
  return error_code(static_cast<int>(e), generic_category());
}
}  // namespace portprobe::detail
