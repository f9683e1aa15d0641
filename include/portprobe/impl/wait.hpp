// portprobe/impl/wait.hpp: the composed operation behind async_wait_for_status()
// (probe, wait `interval`, probe again, until the status or the deadline) and
// the definitions of portprobe/wait.hpp's templates.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <system_error>

#include <portprobe/detail/asio.hpp>

#include <portprobe/detail/io_ready.hpp>

namespace portprobe {
namespace detail {
/// The options checked, or the error they deserve (compiled: lib/wait_timing.cpp).
PORTPROBE_API error_code validate(const wait_options& options, std::uint16_t port) noexcept;

/// now + timeout, or the clock's end when that would overflow (compiled).
PORTPROBE_API std::chrono::steady_clock::time_point saturated_deadline(std::chrono::steady_clock::time_point now,
                                                        std::chrono::milliseconds timeout) noexcept;

/// One probe's timeout: what is left of the overall one, within [1 ms, 400 ms].
PORTPROBE_API std::chrono::milliseconds probe_timeout(std::chrono::steady_clock::duration left) noexcept;

template <typename Executor>
struct wait_op {
  using clock = std::chrono::steady_clock;
  using timer_type = asio::basic_waitable_timer<clock, asio::wait_traits<clock>, Executor>;

  wait_op(const Executor& e, std::uint16_t p, port_status w, const wait_options& options)
      : ex(e),
        port(p),
        wanted(w),
        host(options.host),
        timeout(options.timeout),
        interval(options.interval),
        invalid(validate(options, p)) {}

  Executor ex;
  std::uint16_t port;
  port_status wanted;
  std::string host;
  std::chrono::milliseconds timeout;
  std::chrono::milliseconds interval;
  error_code invalid;
  clock::time_point deadline{};
  std::unique_ptr<timer_type> timer;  // on the heap: `self` moves while a wait is started
  enum class state { start, probed, waited } next = state::start;

  template <typename Self>
  void operator()(Self& self, error_code ec = {}, port_status status = port_status::filtered) {
    switch (next) {
      case state::start:
        self.reset_cancellation_state(asio::enable_total_cancellation());
        if (invalid) {
          next = state::waited;  // completes with `invalid` from the posted call
          post_self(std::move(self), Executor(ex));
          return;
        }
        if (const error_code no_io = io_ready(asio::any_io_executor(ex))) {
          invalid = no_io;  // no timer can be made now (EMFILE): the handler gets why
          next = state::waited;
          post_self(std::move(self), Executor(ex));
          return;
        }
        deadline = saturated_deadline(clock::now(), timeout);
        timer = std::make_unique<timer_type>(ex);
        return probe(self);

      case state::probed:
        if (cancelled(self)) return self.complete(asio::error::operation_aborted);
        if (ec) return self.complete(ec);  // the host does not resolve, EMFILE...
        if (status == wanted) return self.complete(error_code());
        if (clock::now() >= deadline) return self.complete(asio::error::timed_out);
        next = state::waited;
        timer->expires_at(std::min(saturated_deadline(clock::now(), interval), deadline));
        timer->async_wait(std::move(self));
        return;

      case state::waited:
        if (invalid) return self.complete(invalid);
        if (cancelled(self) || ec == asio::error::operation_aborted) {
          return self.complete(asio::error::operation_aborted);
        }
        return probe(self);
    }
  }

 private:
  template <typename Self>
  static bool cancelled(Self& self) {
    return self.get_cancellation_state().cancelled() != asio::cancellation_type::none;
  }

  template <typename Self>
  void probe(Self& self) {
    check_options options;
    options.host = host;
    options.timeout = probe_timeout(deadline - clock::now());
    next = state::probed;
    async_check_status(ex, port, options, std::move(self));
  }
};

}  // namespace detail

template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<wait_signature> CompletionToken>
auto async_wait_for_status(ExecutorOrContext&& ex, std::uint16_t port, port_status wanted,
                           const wait_options& options, CompletionToken&& token) {
  using executor_type = detail::executor_of_t<ExecutorOrContext>;
  const executor_type io_ex = detail::executor_of(ex);
  return asio::async_compose<CompletionToken, wait_signature>(
      detail::wait_op<executor_type>(io_ex, port, wanted, options), token, io_ex);
}

template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<wait_signature> CompletionToken>
auto async_wait_for_status(ExecutorOrContext&& ex, std::uint16_t port, port_status wanted,
                           CompletionToken&& token) {
  return async_wait_for_status(ex, port, wanted, wait_options{},
                               std::forward<CompletionToken>(token));
}

}  // namespace portprobe
