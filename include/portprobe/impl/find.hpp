// portprobe/impl/find.hpp: definitions of portprobe/find.hpp's templates.
#pragma once

#include <portprobe/impl/status.hpp>

namespace portprobe {

namespace detail {
template <typename Executor, typename CompletionToken>
auto start_find(const Executor& ex, const port_list& ports, ordered_window::goal goal,
                const check_options& options, CompletionToken&& token) {
  return start_status_op<status_mode::find, find_signature>(
      ex, std::vector<std::uint16_t>(ports.begin(), ports.end()), goal, options, {},
      std::forward<CompletionToken>(token));
}
}  // namespace detail

template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<find_signature> CompletionToken>
auto async_find_port_in_use(ExecutorOrContext&& ex, const port_list& ports,
                            const check_options& options, CompletionToken&& token) {
  return detail::start_find(detail::executor_of(ex), ports,
                            detail::ordered_window::goal::first_open, options,
                            std::forward<CompletionToken>(token));
}

template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<find_signature> CompletionToken>
auto async_find_port_in_use(ExecutorOrContext&& ex, const port_list& ports,
                            CompletionToken&& token) {
  return async_find_port_in_use(ex, ports, check_options{}, std::forward<CompletionToken>(token));
}

template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<find_signature> CompletionToken>
auto async_find_port_not_in_use(ExecutorOrContext&& ex, const port_list& ports,
                                const check_options& options, CompletionToken&& token) {
  return detail::start_find(detail::executor_of(ex), ports,
                            detail::ordered_window::goal::first_closed, options,
                            std::forward<CompletionToken>(token));
}

template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<find_signature> CompletionToken>
auto async_find_port_not_in_use(ExecutorOrContext&& ex, const port_list& ports,
                                CompletionToken&& token) {
  return async_find_port_not_in_use(ex, ports, check_options{},
                                    std::forward<CompletionToken>(token));
}

}  // namespace portprobe
