// portprobe/detail/asio.hpp: the Asio headers portprobe's own headers use, from the flavour
// the library was built for (portprobe/config.hpp).
#pragma once

#include <portprobe/config.hpp>

#if PORTPROBE_BOOST_ASIO
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution/executor.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/is_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/execution/allocator.hpp>
#include <boost/asio/execution/blocking.hpp>
#include <boost/asio/execution/relationship.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/require.hpp>
#else
#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/basic_waitable_timer.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/execution/executor.hpp>
#include <asio/execution_context.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/is_executor.hpp>
#include <asio/post.hpp>
#include <asio/associated_allocator.hpp>
#include <asio/execution/allocator.hpp>
#include <asio/execution/blocking.hpp>
#include <asio/execution/relationship.hpp>
#include <asio/prefer.hpp>
#include <asio/require.hpp>
#endif

#include <cstring>

namespace portprobe::detail {

/// An error code the library made, handed to the caller: Asio's own categories (netdb,
/// addrinfo, misc) replaced by the caller's objects of them. The library keeps its Asio
/// instantiations to itself, their category objects too, and categories compare by
/// address: without this, a resolver's error would not equal `asio::error::host_not_found`
/// in the caller's code. The system, generic and portprobe categories are one object each.
inline error_code caller_error(const error_code& ec) noexcept {
  if (!ec) return ec;
  const char* const name = ec.category().name();
  if (std::strncmp(name, "asio.", 5) != 0) return ec;
  if (std::strcmp(name + 5, "netdb") == 0) return {ec.value(), asio::error::get_netdb_category()};
  if (std::strcmp(name + 5, "addrinfo") == 0) {
    return {ec.value(), asio::error::get_addrinfo_category()};
  }
  if (std::strcmp(name + 5, "misc") == 0) return {ec.value(), asio::error::get_misc_category()};
  return ec;
}

}  // namespace portprobe::detail
