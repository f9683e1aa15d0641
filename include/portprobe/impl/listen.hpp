// portprobe/impl/listen.hpp: definitions of portprobe/listen.hpp's templates.
#pragma once

#include <portprobe/impl/get_port.hpp>

namespace portprobe {

template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<listen_signature> CompletionToken>
auto async_listen(ExecutorOrContext&& ex, const get_port_options& options,
                  CompletionToken&& token) {
  using executor_type = detail::executor_of_t<ExecutorOrContext>;
  const executor_type io_ex = detail::executor_of(ex);
  return asio::async_compose<CompletionToken, listen_signature>(
      detail::get_port_op<detail::port_request::listen, executor_type>(io_ex, options), token,
      io_ex);
}

}  // namespace portprobe
