// portprobe/scan.hpp: the status of every port of a list.
#pragma once

#include <cstdint>
#include <system_error>
#include <vector>

#include <portprobe/config.hpp>

#include <portprobe/ports.hpp>
#include <portprobe/status.hpp>

namespace portprobe {

/// The completion signature of async_scan().
using scan_signature = void(error_code, std::vector<port_report>);

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
/// `void(error_code ec, std::vector<portprobe::port_report> reports)`,
/// one report per port of the list, in its order (empty on error). Errors as
/// for async_check_status().
///
/// @par Inside the initiating function
/// The first probes may be made at once when the caller runs on `ex`'s
/// context (a host name is resolved asynchronously first); the handler is
/// never invoked from within this function.
///
/// @par Executor
/// The probes run on a strand over `ex`; the handler runs on its associated
/// executor, else on `ex`, after every probe socket is closed.
///
/// @par Per-operation cancellation
/// Terminal, partial and total: completes with operation_aborted and no
/// reports, every probe socket closed.
///
/// @par Object lifetimes and thread-safety
/// Nothing passed by reference is used after this returns; `ex`'s context
/// must outlive the operation. Any number may run at once, on any executors
/// and threads; each has its own strand.
template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<scan_signature> CompletionToken =
              detail::default_token_t<ExecutorOrContext>>
auto async_scan(ExecutorOrContext&& ex, const port_list& ports, const check_options& options,
                CompletionToken&& token = detail::default_token_t<ExecutorOrContext>());

/// Asynchronously probes every port of `ports` on 127.0.0.1: async_scan() with
/// default options (400 ms timeout per probe, 256 probes at once).
///
/// @param ex    An executor, or an execution context whose executor is used.
/// @param ports The ports; copied before this returns.
/// @param token Any completion token for scan_signature.
///
/// @par Completion signature
/// `void(error_code ec, std::vector<portprobe::port_report> reports)`,
/// one report per port, in list order (empty on error). Errors: EMFILE with
/// nothing in flight, operation_aborted.
///
/// @par Inside the initiating function
/// The first probes may be made at once when the caller runs on `ex`'s
/// context (a host name is resolved asynchronously first); the handler is
/// never invoked from within this function.
///
/// @par Executor
/// The probes run on a strand over `ex`; the handler runs on its associated
/// executor, else on `ex`, after every probe socket is closed.
///
/// @par Per-operation cancellation
/// Terminal, partial and total: completes with operation_aborted and no
/// reports, every probe socket closed.
///
/// @par Object lifetimes and thread-safety
/// Nothing passed by reference is used after this returns; `ex`'s context
/// must outlive the operation. Any number may run at once, on any executors
/// and threads; each has its own strand.
template <detail::executor_or_context ExecutorOrContext,
          asio::completion_token_for<scan_signature> CompletionToken =
              detail::default_token_t<ExecutorOrContext>>
auto async_scan(ExecutorOrContext&& ex, const port_list& ports,
                CompletionToken&& token = detail::default_token_t<ExecutorOrContext>());

}  // namespace portprobe

#include <portprobe/impl/scan.hpp>
