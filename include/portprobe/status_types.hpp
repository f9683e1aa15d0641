// portprobe/status_types.hpp: the plain types of the status operations (port
// states, reports, options), without Asio: plain code and its tests include
// this, not the operations.
#pragma once

#include <chrono>
#include <functional>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <portprobe/config.hpp>

namespace portprobe {

/// nmap's port states, as a TCP connect probe sees them.
enum class port_status {
  open,      ///< something accepted the connection (the port is in use)
  closed,    ///< the connection was refused (nothing listens)
  filtered,  ///< no answer within the timeout, or the host/network was unreachable
};

/// "open", "closed" or "filtered".
PORTPROBE_API std::string_view to_string(port_status status) noexcept;

/// One port's status (what async_scan() reports).
struct port_report {
  std::uint16_t port;
  port_status status;
  friend bool operator==(const port_report&, const port_report&) = default;
};

/// What async_scan() reports as it goes (check_options::on_progress).
struct scan_progress {
  std::size_t decided;  ///< ports whose status is known so far (this one included)
  std::size_t total;    ///< ports of the list
  port_report latest;   ///< the port just decided (in the order the answers come)
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
  /// async_scan() only (the other operations ignore it): called once per port
  /// as its status becomes known, in the order the answers come, on the
  /// operation's strand (so never concurrently), always before the
  /// operation's completion and never after it, nor after a cancellation.
  /// Called on the operation's strand: within the initiating function too
  /// when that runs on the executor's thread and the first probes settle at
  /// once (as async_check_status() says), otherwise from the executor. For
  /// progress bars and for acting on open ports as they are found. Must not
  /// throw (an exception is swallowed and stops the calls); empty = no calls.
  std::function<void(const scan_progress&)> on_progress;
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
