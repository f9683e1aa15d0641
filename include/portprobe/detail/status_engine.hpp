// portprobe/detail/status_engine.hpp: the engine behind the status operations
// (check, find, scan), compiled once in lib/status_engine.cpp. It drives a
// window of connect probes on a strand over the caller's I/O executor and
// calls its one-shot completion once every probe has settled and every socket
// is closed. The header-side operation (impl/status.hpp) only starts it and
// completes on the handler's executor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <system_error>
#include <vector>

#include <portprobe/detail/asio.hpp>

#include <portprobe/detail/completion.hpp>
#include <portprobe/detail/window.hpp>

namespace portprobe {
struct check_options;
enum class port_status;
}  // namespace portprobe

namespace portprobe::detail {

/// What the engine hands back to the operation.
struct status_result {
  error_code ec;
  bool aborted = false;  // ended by the caller's cancellation
  ordered_window::goal goal = ordered_window::goal::all;
  std::vector<std::uint16_t> ports;
  std::optional<std::size_t> answer;
  std::vector<port_status> statuses;
};

/// The options checked, or the error they deserve.
PORTPROBE_API error_code validate(const check_options& options) noexcept;

/// Starts probing `result->ports` on `ex`, through a strand of its own. A
/// cancellation emitted on `slot` (if connected) ends it with
/// `result->aborted`. `done` runs once, on the strand, after the last socket is
/// closed; until then the engine keeps itself alive. The first step is
/// dispatched to the strand: it may run within this call when the caller runs
/// on `ex`'s execution context, so `done` must not complete the caller's
/// handler directly (the operation posts it).
PORTPROBE_API void start_status_engine(const asio::any_io_executor& ex, std::shared_ptr<status_result> result,
                         const check_options& options, error_code invalid,
                         asio::cancellation_slot slot, one_shot done);

}  // namespace portprobe::detail
