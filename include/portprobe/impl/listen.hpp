// portprobe/impl/listen.hpp: definitions of portprobe/listen.hpp's templates.
#pragma once

#include <asio/compose.hpp>

#include <portprobe/detail/find_port_op.hpp>

namespace portprobe {

template <detail::executor_like Executor, detail::token_like CompletionToken>
auto async_listen(const Executor& ex, const get_port_options& options,
                  CompletionToken&& token) {
  return asio::async_compose<CompletionToken,
                             void(std::error_code, asio::ip::tcp::acceptor)>(
      detail::find_port_op<detail::port_request::listen, Executor>(ex, options), token, ex);
}

template <detail::context_like ExecutionContext, detail::token_like CompletionToken>
auto async_listen(ExecutionContext& ctx, const get_port_options& options,
                  CompletionToken&& token) {
  return async_listen(ctx.get_executor(), options, std::forward<CompletionToken>(token));
}

}  // namespace portprobe
