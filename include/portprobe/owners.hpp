// portprobe/owners.hpp: who holds a port (Linux: /proc).
#pragma once

#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include <portprobe/detail/asio.hpp>

namespace portprobe {

/// One local socket bound to a port, with the process that holds it.
struct port_owner {
  int pid;                    ///< 0 where this user may not see the owner
  std::string command;        ///< the process's name (/proc/PID/comm); "" where pid is 0
  asio::ip::address address;  ///< the local address the socket is bound to
  std::string state;          ///< "LISTEN", "ESTABLISHED", "TIME_WAIT"... ("UNCONN" for UDP)
  std::string protocol;       ///< "tcp", "tcp6", "udp" or "udp6"
};

/// Every local socket bound to `port` (TCP and UDP, IPv4 and IPv6), from
/// /proc/net/{tcp,tcp6,udp,udp6} and /proc/PID/fd. Synchronous (reads /proc);
/// thread-safe. A socket held by several processes (inherited) is listed once
/// per process. On a system without /proc/net: empty, `ec` set.
PORTPROBE_API std::vector<port_owner> port_owners(std::uint16_t port, error_code& ec);

}  // namespace portprobe
