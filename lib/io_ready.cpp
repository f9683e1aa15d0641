#include <portprobe/detail/io_ready.hpp>

#include <atomic>
#include <exception>
#include <new>

#include "asio_lib.hpp"

namespace portprobe::detail {

namespace {

/// The spare context: an io_context with its reactor and its acceptor service,
/// never run, never destroyed; only closed acceptors are made on it, for an
/// async_listen that must complete with an error on a context that cannot
/// hold one.
asio::io_context* make_spare() noexcept {
  asio::io_context* io = nullptr;
  try {
    io = new asio::io_context(1);
    const asio::ip::tcp::acceptor made(*io);  // makes the reactor and the service
    return io;
  } catch (...) {
    delete io;
    return nullptr;
  }
}

std::atomic<asio::io_context*> spare{nullptr};

asio::io_context* spare_context() noexcept {
  asio::io_context* io = spare.load(std::memory_order_acquire);
  if (io != nullptr) return io;
  asio::io_context* made = make_spare();
  if (made == nullptr) return nullptr;
  if (spare.compare_exchange_strong(io, made, std::memory_order_acq_rel)) return made;
  delete made;  // another thread's came first
  return io;
}

// Made when the library is loaded: three descriptors (epoll, eventfd,
// timerfd), all close-on-exec, and no thread.
[[maybe_unused]] const bool spare_at_load = spare_context() != nullptr;

}  // namespace

error_code current_exception_code() noexcept {
  try {
    throw;
#if PORTPROBE_BOOST_ASIO
  } catch (const system_error& s) {  // what Boost.Asio throws
    return s.code();
#endif
  } catch (const std::system_error& s) {
    return s.code();
  } catch (const std::bad_alloc&) {
    return detail::make_errc(std::errc::not_enough_memory);
  } catch (...) {
    return detail::make_errc(std::errc::resource_unavailable_try_again);
  }
}

error_code io_ready(const asio::any_io_executor& ex) noexcept {
  try {
    asio::execution_context& context = asio::query(ex, asio::execution::context);
    if (asio::has_service<asio::detail::reactor>(context)) return {};
    const asio::steady_timer made(ex);  // makes the reactor, or throws why not
    return {};
  } catch (...) {
    return current_exception_code();
  }
}

asio::ip::tcp::acceptor make_acceptor(const asio::any_io_executor& ex, error_code& ec) noexcept {
  try {
    return asio::ip::tcp::acceptor(ex);
  } catch (...) {
    ec = current_exception_code();
  }
  asio::io_context* io = spare_context();
  if (io == nullptr) std::terminate();  // no descriptor to be had since the library was loaded
  return asio::ip::tcp::acceptor(*io);
}

}  // namespace portprobe::detail
