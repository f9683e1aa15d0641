// lib/registry.hpp: the process-wide lock registry (private to the library).
//
// A claim table: this process's locks (lock_table) and, in the `user` scope,
// its leases in the shared table (lease_slots). Every function below but the
// constructor and instance() runs on strand() only, and is O(1) but for
// clear(), tick() and leases(): no probe, no system call. A claim checks this
// process's locks, then takes the shared slot (claim first: a port is never
// probed while another process holds it), then locks it here; the caller then
// probes it and, when it is busy, releases the claim.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "asio_lib.hpp"

#include "lock_table.hpp"
#include "registry_executor.hpp"
#include <portprobe/locks.hpp>

#include "lease_table.hpp"

namespace portprobe::detail {

/// The registry's clocks, injectable for tests.
class lock_clock {
 public:
  virtual lock_table::time_point steady_now() const = 0;  ///< this process's holds
  virtual std::uint64_t boot_ms() const = 0;               ///< the shared leases
 protected:
  ~lock_clock() = default;
};

/// The real clocks: steady_clock and CLOCK_BOOTTIME.
const lock_clock& system_lock_clock();

class registry {
 public:
  using clock = lock_table::clock;
  using duration = lock_table::duration;

  /// A reservation's shared lease, and how often the timer renews it.
  static constexpr std::uint64_t reserve_lease_ms = 30000;
  static constexpr auto renew_interval = std::chrono::seconds(10);

  /// The registry of this process, created on first use (opening the lease
  /// table then) and never destroyed; a forked child gets a new one.
  static registry& instance();

  /// A registry of its own (tests): `table` may be null (the process scope),
  /// `why` says why; `pid` is the owner tag; `timers` false never arms a timer
  /// (a test calls tick() and reads next_wake()).
  registry(const lock_clock& clock, std::unique_ptr<lease_table_file> table, std::string why,
           int pid, bool timers);
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  /// Starts the registry's thread and makes its timer (and so the timer's
  /// descriptors) now, at the first use of the library, rather than at the
  /// first lock. Before the registry is shared; failures are retried by arm().
  void prepare() noexcept;

  const registry_strand& strand() const noexcept { return strand_; }
  lock_scope scope() const noexcept { return table() ? lock_scope::user : lock_scope::process; }
  std::string scope_reason() const { return table() ? std::string() : why_; }
  /// The shared table, or none (in-process locks). Any thread.
  const lease_table_file* table() const noexcept { return shared_.load(std::memory_order_acquire); }
  /// The table at `where` could not be opened for a reason that passes (out of
  /// descriptors or memory): claims try again, at most every 100 ms, until it
  /// opens or fails for good. Before the registry is shared.
  void retry_table(lease_table_location where) { retry_where_ = std::move(where); }
  int pid() const noexcept { return pid_; }
  /// The fork generation this registry belongs to; current_generation() is the
  /// process's now (it changes in a forked child, whose registry is a new one).
  unsigned generation() const noexcept { return generation_; }
  static unsigned current_generation() noexcept;

  // --- On strand() only. ---

  /// How a claim is taken.
  enum class claim_kind {
    /// Before its probe (or before its operation completes): locked for every
    /// other search, left alone by release(port) and clear(), and turned into
    /// the real lock by confirm() once the operation is done. Its shared lease
    /// lasts at least pending_lease_ms meanwhile.
    pending,
    /// The lock itself, from now (an OS pick, probed already, that completes
    /// its operation at once).
    final,
  };
  static constexpr std::uint64_t pending_lease_ms = 10000;

  /// Claims `port` for `hold` (or as a reservation): nothing when this process
  /// or another holds it; else a ticket for confirm() and release(port,
  /// ticket), 0 when a zero hold took nothing.
  std::optional<std::uint64_t> claim(std::uint16_t port, duration hold, bool reserve,
                                     claim_kind kind = claim_kind::final);
  /// Turns pending claim `ticket` into the lock, from now for `hold` (or
  /// reserved), in this process and in the shared table. False when the claim
  /// was lost (its shared lease lapsed and another process took it): the port
  /// is not ours, nothing is held.
  bool confirm(std::uint16_t port, std::uint64_t ticket, duration hold, bool reserve);
  /// Undoes claim `ticket` of `port` (nothing if that lock has ended already).
  void release(std::uint16_t port, std::uint64_t ticket);
  /// Ends this process's lock on `port`, whichever claim made it (not a pending
  /// claim: its operation has not handed the port out yet).
  void release(std::uint16_t port);
  /// Ends every lock of this process (not the pending claims).
  void clear();
  /// The timer's work: forgets ended holds, renews reservations' leases (a
  /// reservation whose lease was lost is dropped), re-arms.
  void tick();
  /// When the timer is due next (none: nothing to expire or renew).
  std::optional<clock::time_point> next_wake() const noexcept { return armed_for_; }
  bool is_locked(std::uint16_t port) const;
  std::size_t size() const noexcept { return locks_.size(); }
  /// This process's locks held now (the process scope's active_leases()).
  std::vector<port_lease> leases() const;

 private:
  void arm(clock::time_point deadline);
  void arm_for(clock::time_point now, duration hold, bool reserve);
  void forget(const lock_table::entry& e, std::uint16_t port);
  /// Opens the table now if a retry is due (retry_table()).
  void open_table_if_due(clock::time_point now);

  unsigned generation_ = 0;  // the fork generation it was made in (instance())
  const registry* abandoned_ = nullptr;  // in a forked child: the parent's, kept, never used

  const lock_clock& clock_;
  registry_host host_;
  registry_strand strand_;
  std::unique_ptr<lease_table_file> table_;   // the owner (set once, on the strand after a retry)
  std::atomic<const lease_table_file*> shared_{nullptr};  // what table() reads
  std::optional<lease_table_location> retry_where_;
  clock::time_point next_table_try_{};
  std::string why_;
  int pid_;
  bool timers_;
  lock_table locks_;
  std::uint64_t next_ticket_ = 1;
  std::optional<clock::time_point> next_renewal_;
  std::optional<clock::time_point> armed_for_;
  std::optional<asio::steady_timer> timer_;
};

/// Leases held now in `slots` at `now_ms` (the user scope's active_leases()).
std::vector<port_lease> held_leases(const lease_slots& slots, std::uint64_t now_ms);

/// Test hooks (not in the installed headers): whether `port` is locked by this
/// process now, and how many lock entries the registry still stores (expired
/// ones are forgotten by its timer). They wait for the registry's strand:
/// never call them from it.
bool is_port_locked(std::uint16_t port);
std::size_t stored_lock_count();

}  // namespace portprobe::detail
