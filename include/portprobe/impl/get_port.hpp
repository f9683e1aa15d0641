// portprobe/impl/get_port.hpp: definitions of portprobe/get_port.hpp's templates.
#pragma once

#include <asio/compose.hpp>

#include <portprobe/detail/find_port_op.hpp>

namespace portprobe {

template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<get_port_signature> CompletionToken>
auto async_get_port(ExecutorOrContext&& ex, const get_port_options& options,
                    CompletionToken&& token) {
  using executor_type = detail::executor_of_t<ExecutorOrContext>;
  const executor_type io_ex = detail::executor_of(ex);
  return asio::async_compose<CompletionToken, get_port_signature>(
      detail::find_port_op<detail::port_request::one, executor_type>(io_ex, options), token,
      io_ex);
}

template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<get_port_signature> CompletionToken>
auto async_get_port(ExecutorOrContext&& ex, CompletionToken&& token) {
  return async_get_port(ex, get_port_options{}, std::forward<CompletionToken>(token));
}

template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<get_ports_signature> CompletionToken>
auto async_get_ports(ExecutorOrContext&& ex, std::size_t count, const get_port_options& options,
                     CompletionToken&& token) {
  using executor_type = detail::executor_of_t<ExecutorOrContext>;
  const executor_type io_ex = detail::executor_of(ex);
  return asio::async_compose<CompletionToken, get_ports_signature>(
      detail::find_port_op<detail::port_request::many, executor_type>(io_ex, options, count),
      token, io_ex);
}

}  // namespace portprobe
