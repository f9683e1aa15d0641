// lib/wait_timing.cpp: the option checks and timing of async_wait_for_status()
// (declared in impl/wait.hpp): deadlines that do not overflow, probe timeouts.
#include <portprobe/wait.hpp>

#include <algorithm>

#include "asio_lib.hpp"

namespace portprobe::detail {

error_code validate(const wait_options& options, std::uint16_t port) noexcept {
  if (port == 0 || options.timeout < std::chrono::milliseconds::zero() ||
      options.interval < std::chrono::milliseconds::zero()) {
    return asio::error::invalid_argument;
  }
  return {};
}

std::chrono::steady_clock::time_point saturated_deadline(std::chrono::steady_clock::time_point now,
                                                        std::chrono::milliseconds timeout) noexcept {
  using clock = std::chrono::steady_clock;
  const auto left = clock::time_point::max() - now;
  if (timeout >= std::chrono::duration_cast<std::chrono::milliseconds>(left)) {
    return clock::time_point::max();
  }
  return now + std::chrono::duration_cast<clock::duration>(timeout);
}

std::chrono::milliseconds probe_timeout(std::chrono::steady_clock::duration left) noexcept {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(left);
  return std::clamp(ms, std::chrono::milliseconds(1), std::chrono::milliseconds(400));
}

}  // namespace portprobe::detail
