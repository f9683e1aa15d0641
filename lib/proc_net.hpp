// lib/proc_net.hpp: the plain parts of port_owners(), as code over
// text (no file, no socket): the tables /proc/net/{tcp,tcp6,udp,udp6}, the
// links of /proc/PID/fd, and joining sockets with the processes that hold them.
// Compiled in lib/, tested on sample text. Thread-safe (no shared state).
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "asio_lib.hpp"

#include <portprobe/owners.hpp>

namespace portprobe::detail {

/// Which of the four tables a text comes from.
enum class proc_net_table { tcp, tcp6, udp, udp6 };

/// "tcp", "tcp6", "udp" or "udp6".
std::string_view protocol_name(proc_net_table table) noexcept;

/// The name of a socket state as /proc/net prints it (the kernel's TCP_*
/// numbers): "LISTEN" for 0x0A... For UDP, 0x07 (TCP_CLOSE) is "UNCONN" and
/// 0x01 "ESTABLISHED" (connected). "UNKNOWN" for a number outside the table.
std::string_view socket_state_name(proc_net_table table, unsigned state) noexcept;

/// One socket of a /proc/net table: the fields port_owners() needs.
struct proc_net_socket {
  std::string_view protocol;  ///< protocol_name() of the table (static storage)
  asio::ip::address address;  ///< the local address (v4-mapped stays IPv6)
  std::uint16_t port = 0;     ///< the local port
  std::string_view state;     ///< socket_state_name() (static storage)
  std::uint64_t inode = 0;    ///< 0: no file holds it (TIME_WAIT, a request socket)
};

/// The sockets of one /proc/net table whose LOCAL port is `port`, in the
/// order of the text. `text` is the whole file: its header line and every line
/// that does not have the table's shape (`sl: local rem st tx:rx tr:when
/// retrnsmt uid timeout inode ...`, addresses of 8 hex digits for tcp/udp and
/// 32 for tcp6/udp6) are skipped. The kernel prints each 32-bit word of an
/// address as a number in the host's `byte_order`; tests pass it explicitly.
std::vector<proc_net_socket> parse_proc_net(std::string_view text, proc_net_table table,
                                            std::uint16_t port,
                                            std::endian byte_order = std::endian::native);

/// The inode of a /proc/PID/fd link that names a socket ("socket:[12345]"),
/// or 0 for anything else (a file, a pipe, a malformed link).
std::uint64_t socket_inode(std::string_view link) noexcept;

/// One process that holds a socket (one of its /proc/PID/fd links names it).
struct socket_holder {
  std::uint64_t inode = 0;
  int pid = 0;
  std::string command;  ///< /proc/PID/comm, trimmed
};

/// The answer of port_owners(): each socket once per process that holds it
/// (holders sorted by pid; the same process holding it through several
/// descriptors counts once), or once with pid 0 and an empty command where no
/// holder is known (inode 0, or no process this user may look into).
std::vector<port_owner> join_owners(const std::vector<proc_net_socket>& sockets,
                                    std::vector<socket_holder> holders);

}  // namespace portprobe::detail
