// portprobe/impl/wait.hpp: definitions of portprobe/wait.hpp's templates.
#pragma once

#include <asio/compose.hpp>

#include <portprobe/detail/wait_op.hpp>

namespace portprobe {

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
