// portprobe/locks.hpp: who sees the port locks of async_get_port(), and what is
// held now. Plain declarations: no Asio.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include <portprobe/config.hpp>

namespace portprobe {

/// Which processes a lock of this process is seen by.
enum class lock_scope {
  /// This process only: its threads and io_contexts.
  process,
  /// Every process of this user in this network namespace that uses portprobe,
  /// through the lease table in shared memory.
  user,
};

/// "process" or "user".
constexpr const char* to_string(lock_scope scope) noexcept {
  return scope == lock_scope::user ? "user" : "process";
}

/// The scope of this process's locks: `user` when the lease table is in use,
/// `process` when PORTPROBE_LOCKS=process chose so or the table cannot be used
/// (lock_scope_reason() says why). Decided once per process (and once again in
/// a forked child), on first use. Thread-safe.
PORTPROBE_API lock_scope current_lock_scope();

/// Why the locks are in-process only ("" when the scope is `user`): the
/// environment's choice, or what was wrong with the lease table. Thread-safe.
PORTPROBE_API std::string lock_scope_reason();

/// The lease table's path (PORTPROBE_LOCK_DIR, else /dev/shm, then
/// `portprobe-v1-u<euid>-n<netns inode>`), in use or not; "" when it cannot be
/// told (no /proc). Thread-safe.
PORTPROBE_API std::string lock_table_path();

/// One port held now.
struct port_lease {
  std::uint16_t port;
  int pid;                              ///< the process that took it (it may have exited)
  std::chrono::milliseconds remaining;  ///< until the lease ends (a reservation is renewed)
  bool reserved;                        ///< taken with `reserve`
};

/// The ports held now, in port order: with the `user` scope every lease of
/// this user in this network namespace (of live and exited processes alike);
/// with the `process` scope this process's own locks. `ec` is set, and the
/// list empty, only when the table is in use but could not be read.
/// Thread-safe; never waits but for a registry visit in progress.
PORTPROBE_API std::vector<port_lease> active_leases(error_code& ec);

/// Ends this process's lock on `port` now, reserved or not (its lease in the
/// shared table too, never another process's). Does nothing if this process
/// does not hold it. Thread-safe, from any thread or handler; never blocks: when
/// another thread is in the registry, the release is queued ahead of every
/// registry operation started after this call returns.
PORTPROBE_API void release_port(std::uint16_t port);

/// Ends every lock of this process now, reserved ones too (get-port's
/// clearLockedPorts); other processes' leases stay. Thread-safe, never blocks,
/// as release_port().
PORTPROBE_API void clear_locked_ports();

}  // namespace portprobe
