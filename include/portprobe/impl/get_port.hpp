// portprobe/impl/get_port.hpp: definitions of portprobe/get_port.hpp's templates.
#pragma once

#include <asio/compose.hpp>

#include <portprobe/detail/find_port_op.hpp>

namespace portprobe {

template <detail::executor_like Executor, detail::token_like CompletionToken>
auto async_get_port(const Executor& ex, const get_port_options& options,
                    CompletionToken&& token) {
  return asio::async_compose<CompletionToken, void(std::error_code, std::uint16_t)>(
      detail::find_port_op<detail::port_request::one, Executor>(ex, options), token, ex);
}

template <detail::context_like ExecutionContext, detail::token_like CompletionToken>
auto async_get_port(ExecutionContext& ctx, const get_port_options& options,
                    CompletionToken&& token) {
  return async_get_port(ctx.get_executor(), options,
                        std::forward<CompletionToken>(token));
}

template <detail::executor_like Executor, detail::token_like CompletionToken>
auto async_get_port(const Executor& ex, CompletionToken&& token) {
  return async_get_port(ex, get_port_options{}, std::forward<CompletionToken>(token));
}

template <detail::context_like ExecutionContext, detail::token_like CompletionToken>
auto async_get_port(ExecutionContext& ctx, CompletionToken&& token) {
  return async_get_port(ctx.get_executor(), get_port_options{},
                        std::forward<CompletionToken>(token));
}

template <detail::executor_like Executor, detail::token_like CompletionToken>
auto async_get_ports(const Executor& ex, std::size_t count, const get_port_options& options,
                     CompletionToken&& token) {
  return asio::async_compose<CompletionToken,
                             void(std::error_code, std::vector<std::uint16_t>)>(
      detail::find_port_op<detail::port_request::many, Executor>(ex, options, count), token,
      ex);
}

template <detail::context_like ExecutionContext, detail::token_like CompletionToken>
auto async_get_ports(ExecutionContext& ctx, std::size_t count, const get_port_options& options,
                     CompletionToken&& token) {
  return async_get_ports(ctx.get_executor(), count, options,
                         std::forward<CompletionToken>(token));
}

}  // namespace portprobe
