// portprobe/impl/scan.hpp: definitions of portprobe/scan.hpp's templates.
#pragma once

#include <portprobe/impl/status.hpp>

namespace portprobe {

template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<scan_signature> CompletionToken>
auto async_scan(ExecutorOrContext&& ex, const port_list& ports, const check_options& options,
                CompletionToken&& token) {
  return detail::start_status_op<detail::status_mode::scan, scan_signature>(
      detail::executor_of(ex), std::vector<std::uint16_t>(ports.begin(), ports.end()),
      detail::ordered_window::goal::all, options, {}, std::forward<CompletionToken>(token));
}

template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<scan_signature> CompletionToken>
auto async_scan(ExecutorOrContext&& ex, const port_list& ports, CompletionToken&& token) {
  return async_scan(ex, ports, check_options{}, std::forward<CompletionToken>(token));
}

}  // namespace portprobe
