// portprobe/status_types.hpp: the plain types of the status operations (port
// states, reports, options), without Asio: plain code and its tests include
// this, not the operations.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace portprobe {

/// nmap's port states, as a TCP connect probe sees them.
enum class port_status {
  open,      ///< something accepted the connection (the port is in use)
  closed,    ///< the connection was refused (nothing listens)
  filtered,  ///< no answer within the timeout, or the host/network was unreachable
};

/// "open", "closed" or "filtered".
std::string_view to_string(port_status status) noexcept;

/// One port's status (what async_scan() reports).
struct port_report {
  std::uint16_t port;
  port_status status;
  friend bool operator==(const port_report&, const port_report&) = default;
};

/// How the status operations probe. A plain value; copied at initiation.
struct check_options {
  /// An IPv4/IPv6 address, or a host name (resolved once per operation, to all
  /// its addresses, IPv4 and IPv6).
  std::string host = "127.0.0.1";
  /// Per probe (per port and address). Must be positive.
  std::chrono::milliseconds timeout{400};
  /// Probes in flight at once for find and scan; 0 = a sensible default (256).
  std::size_t concurrency = 0;
};

/// How async_wait_for_status() waits. A plain value; copied at initiation.
struct wait_options {
  /// An IPv4/IPv6 address or a host name.
  std::string host = "127.0.0.1";
  /// Overall: past it the operation fails with asio::error::timed_out.
  std::chrono::milliseconds timeout = std::chrono::seconds(10);
  /// Between the end of one probe and the start of the next.
  std::chrono::milliseconds interval{50};
};

}  // namespace portprobe
