// portprobe/impl/wait.hpp: definitions of portprobe/wait.hpp's templates.
#pragma once

#include <asio/compose.hpp>

#include <portprobe/detail/wait_op.hpp>

namespace portprobe {

template <detail::executor_like Executor, detail::token_like CompletionToken>
auto async_wait_for_status(const Executor& ex, std::uint16_t port, port_status wanted,
                           const wait_options& options, CompletionToken&& token) {
  return asio::async_compose<CompletionToken, void(std::error_code)>(
      detail::wait_op<Executor>(ex, port, wanted, options),
      token, ex);
}

template <detail::context_like ExecutionContext, detail::token_like CompletionToken>
auto async_wait_for_status(ExecutionContext& ctx, std::uint16_t port, port_status wanted,
                           const wait_options& options, CompletionToken&& token) {
  return async_wait_for_status(ctx.get_executor(), port, wanted, options,
                               std::forward<CompletionToken>(token));
}

template <detail::executor_like Executor, detail::token_like CompletionToken>
auto async_wait_for_status(const Executor& ex, std::uint16_t port, port_status wanted,
                           CompletionToken&& token) {
  return async_wait_for_status(ex, port, wanted, wait_options{},
                               std::forward<CompletionToken>(token));
}

template <detail::context_like ExecutionContext, detail::token_like CompletionToken>
auto async_wait_for_status(ExecutionContext& ctx, std::uint16_t port, port_status wanted,
                           CompletionToken&& token) {
  return async_wait_for_status(ctx.get_executor(), port, wanted, wait_options{},
                               std::forward<CompletionToken>(token));
}

}  // namespace portprobe
