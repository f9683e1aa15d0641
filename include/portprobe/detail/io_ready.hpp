// portprobe/detail/io_ready.hpp: whether a caller's execution context can
// hold I/O objects now. Asio makes a context's reactor (an epoll descriptor,
// an eventfd, a timerfd) when the context's first socket or timer is made, and
// throws when it cannot (EMFILE): the operations ask first, from their
// initiating functions, and complete with the error instead (compiled once in
// lib/io_ready.cpp).
#pragma once

#include <system_error>

#include <portprobe/detail/asio.hpp>

namespace portprobe::detail {

/// No error when `ex`'s context has its reactor (made now if need be), else
/// why it cannot be made (too_many_files_open, say). Never throws.
PORTPROBE_API error_code io_ready(const asio::any_io_executor& ex) noexcept;

/// The exception being handled (inside a catch block) as an error code: a
/// std::system_error's own, not_enough_memory for std::bad_alloc, else
/// resource_unavailable_try_again.
PORTPROBE_API error_code current_exception_code() noexcept;

/// A closed acceptor on `ex`; when `ex`'s context cannot make its reactor, a
/// closed acceptor on the library's spare context (made when the library is
/// loaded, so that it exists before descriptors run out), and `ec` says why.
PORTPROBE_API asio::ip::tcp::acceptor make_acceptor(const asio::any_io_executor& ex, error_code& ec) noexcept;

}  // namespace portprobe::detail
