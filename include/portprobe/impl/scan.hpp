// portprobe/impl/scan.hpp: definitions of portprobe/scan.hpp's templates.
#pragma once

#include <portprobe/impl/status.hpp>

namespace portprobe {

template <detail::executor_like Executor, detail::token_like CompletionToken>
auto async_scan(const Executor& ex, const port_list& ports, const check_options& options,
                CompletionToken&& token) {
  return detail::start_status_op<detail::status_mode::scan,
                                 void(std::error_code, std::vector<port_report>)>(
      ex, std::vector<std::uint16_t>(ports.begin(), ports.end()),
      detail::ordered_window::goal::all, options, {}, std::forward<CompletionToken>(token));
}

template <detail::context_like ExecutionContext, detail::token_like CompletionToken>
auto async_scan(ExecutionContext& ctx, const port_list& ports, const check_options& options,
                CompletionToken&& token) {
  return async_scan(ctx.get_executor(), ports, options, std::forward<CompletionToken>(token));
}

template <detail::executor_like Executor, detail::token_like CompletionToken>
auto async_scan(const Executor& ex, const port_list& ports, CompletionToken&& token) {
  return async_scan(ex, ports, check_options{}, std::forward<CompletionToken>(token));
}

template <detail::context_like ExecutionContext, detail::token_like CompletionToken>
auto async_scan(ExecutionContext& ctx, const port_list& ports, CompletionToken&& token) {
  return async_scan(ctx.get_executor(), ports, check_options{},
                    std::forward<CompletionToken>(token));
}

}  // namespace portprobe
