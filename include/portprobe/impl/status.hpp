// portprobe/impl/status.hpp: definitions of portprobe/status.hpp's templates.
#pragma once

#include <portprobe/detail/status_op.hpp>

namespace portprobe {

template <detail::executor_like Executor, detail::token_like CompletionToken>
auto async_check_status(const Executor& ex, std::uint16_t port, const check_options& options,
                        CompletionToken&& token) {
  const std::error_code invalid =
      port == 0 ? std::error_code(asio::error::invalid_argument) : std::error_code();
  return detail::start_status_op<detail::status_mode::check,
                                 void(std::error_code, port_status)>(
      ex, {port}, detail::ordered_window::goal::all, options, invalid,
      std::forward<CompletionToken>(token));
}

template <detail::context_like ExecutionContext, detail::token_like CompletionToken>
auto async_check_status(ExecutionContext& ctx, std::uint16_t port, const check_options& options,
                        CompletionToken&& token) {
  return async_check_status(ctx.get_executor(), port, options,
                            std::forward<CompletionToken>(token));
}

template <detail::executor_like Executor, detail::token_like CompletionToken>
auto async_check_status(const Executor& ex, std::uint16_t port, CompletionToken&& token) {
  return async_check_status(ex, port, check_options{}, std::forward<CompletionToken>(token));
}

template <detail::context_like ExecutionContext, detail::token_like CompletionToken>
auto async_check_status(ExecutionContext& ctx, std::uint16_t port, CompletionToken&& token) {
  return async_check_status(ctx.get_executor(), port, check_options{},
                            std::forward<CompletionToken>(token));
}

}  // namespace portprobe
