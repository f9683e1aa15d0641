// portprobe/impl/listen.hpp: definitions of portprobe/listen.hpp's templates.
#pragma once

#include <portprobe/impl/get_port.hpp>

namespace portprobe {

template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<listen_signature> CompletionToken>
auto async_listen(ExecutorOrContext&& ex, const get_port_options& options,
                  CompletionToken&& token) {
  return detail::start_get_port_op<detail::port_request::listen, listen_signature>(
      ex, options, 1, token);
}

}  // namespace portprobe
