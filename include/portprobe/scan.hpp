// portprobe/scan.hpp: the status of every port of a list.
#pragma once

#include <cstdint>
#include <system_error>
#include <vector>

#include <portprobe/ports.hpp>
#include <portprobe/status.hpp>

namespace portprobe {

/// The completion signature of async_scan().
using scan_signature = void(std::error_code, std::vector<port_report>);

/// Asynchronously probes every port of `ports` and reports each, in list order.
///
/// Probes (see async_check_status()) run concurrently, at most
/// `options.concurrency` at a time; running out of descriptors (EMFILE/ENFILE)
/// shrinks the window and goes on: slower, never a wrong status.
///
/// @param ex      An executor, or an execution context whose executor is used.
/// @param ports   The ports; copied before this returns.
/// @param options Where and how to probe; copied before this returns.
/// @param token   Any completion token for scan_signature.
///
/// @par Completion signature
/// `void(std::error_code ec, std::vector<portprobe::port_report> reports)`,
/// one report per port of the list, in its order (empty on error). Errors as
/// for async_check_status().
///
/// @par Inside the initiating function, executor, cancellation, lifetimes and thread-safety
/// As for async_check_status(): the first probes may be made at once when the
/// caller runs on `ex`'s context; the handler is never invoked from within
/// this function; terminal, partial and total cancellation.
template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<scan_signature> CompletionToken =
              detail::default_token_t<ExecutorOrContext>>
auto async_scan(ExecutorOrContext&& ex, const port_list& ports, const check_options& options,
                CompletionToken&& token = detail::default_token_t<ExecutorOrContext>());

/// async_scan() with default options; everything else as above.
template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<scan_signature> CompletionToken =
              detail::default_token_t<ExecutorOrContext>>
auto async_scan(ExecutorOrContext&& ex, const port_list& ports,
                CompletionToken&& token = detail::default_token_t<ExecutorOrContext>());

}  // namespace portprobe

#include <portprobe/impl/scan.hpp>
