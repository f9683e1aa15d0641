// portprobe/impl/status.hpp: the status operations' composed operation (behind
// async_check_status(), async_find_port_in_use(), async_find_port_not_in_use()
// and async_scan()) and the definitions of portprobe/status.hpp's templates.
//
// The operation is a thin shell around the compiled engine
// (detail/status_engine.hpp): it starts the engine with a one-shot completion
// that posts the operation back to its handler's associated executor, where it
// completes. Cancellation reaches the engine through the operation's
// cancellation slot.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include <portprobe/detail/asio.hpp>

#include <portprobe/detail/status_engine.hpp>

namespace portprobe {
namespace detail {

/// Posts the composed operation back to its handler's executor when done.
template <typename Self, typename Executor>
struct post_back {
  Self self;
  Executor io_ex;
  void operator()() { post_self(std::move(self), io_ex); }
};

/// The composed operation's own state: what it asked for, and the result box.
/// Mode: check (void(ec, port_status)), find (void(ec, optional<uint16_t>)),
/// scan (void(ec, vector<port_report>)).
enum class status_mode { check, find, scan };

template <status_mode Mode, typename Executor>
struct status_op {
  Executor ex;
  std::shared_ptr<status_result> result;
  check_options options;
  error_code invalid;
  bool started = false;

  template <typename Self>
  void operator()(Self& self) {
    if (!started) {
      started = true;
      self.reset_cancellation_state(asio::enable_total_cancellation());
      // Take what is needed before `self` (and these members with it) moves.
      const asio::cancellation_slot slot = self.get_cancellation_state().slot();
      const Executor io_ex = ex;
      const std::shared_ptr<status_result> box = result;
      const check_options opts = options;
      const error_code bad = invalid;
      start_status_engine(asio::any_io_executor(io_ex), box, opts, bad, slot,
                          one_shot(post_back<Self, Executor>{std::move(self), io_ex}));
      return;
    }
    // Back on the handler's executor, every probe settled.
    status_result& r = *result;
    r.ec = r.aborted ? error_code(asio::error::operation_aborted) : caller_error(r.ec);
    if constexpr (Mode == status_mode::check) {
      self.complete(r.ec, r.ec || r.statuses.empty() ? port_status::filtered : r.statuses[0]);
    } else if constexpr (Mode == status_mode::find) {
      std::optional<std::uint16_t> port;
      if (!r.ec && r.answer) port = r.ports[*r.answer];
      self.complete(r.ec, port);
    } else {
      std::vector<port_report> reports;
      if (!r.ec) {
        reports.reserve(r.ports.size());
        for (std::size_t i = 0; i < r.ports.size(); ++i) {
          reports.push_back({r.ports[i], r.statuses[i]});
        }
      }
      self.complete(r.ec, std::move(reports));
    }
  }
};

/// Starts a status operation over `ports`.
template <status_mode Mode, typename Signature, typename Executor, typename CompletionToken>
auto start_status_op(const Executor& ex, std::vector<std::uint16_t> ports,
                     ordered_window::goal goal, const check_options& options,
                     error_code invalid, CompletionToken&& token) {
  auto result = std::make_shared<status_result>();
  result->goal = goal;
  result->ports = std::move(ports);
  if (!invalid) invalid = validate(options);
  return asio::async_compose<CompletionToken, Signature>(
      status_op<Mode, Executor>{ex, std::move(result), options, invalid}, token, ex);
}

}  // namespace detail

template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<check_signature> CompletionToken>
auto async_check_status(ExecutorOrContext&& ex, std::uint16_t port, const check_options& options,
                        CompletionToken&& token) {
  const error_code invalid =
      port == 0 ? error_code(asio::error::invalid_argument) : error_code();
  return detail::start_status_op<detail::status_mode::check, check_signature>(
      detail::executor_of(ex), {port}, detail::ordered_window::goal::all, options, invalid,
      std::forward<CompletionToken>(token));
}

template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<check_signature> CompletionToken>
auto async_check_status(ExecutorOrContext&& ex, std::uint16_t port, CompletionToken&& token) {
  return async_check_status(ex, port, check_options{}, std::forward<CompletionToken>(token));
}

}  // namespace portprobe
