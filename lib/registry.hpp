// lib/registry.hpp: the process-wide lock registry (private to the library).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include <asio/basic_waitable_timer.hpp>

#include <portprobe/detail/lock_table.hpp>
#include <portprobe/detail/registry.hpp>

namespace portprobe::detail {

class registry {
 public:
  using clock = lock_table::clock;

  /// The one registry of the process, created on first use, never destroyed.
  static registry& instance();

  const registry_strand& strand() const noexcept { return strand_; }

  // Everything below runs on strand() only.
  const lock_table& table() const noexcept { return table_; }
  bool try_lock(std::uint16_t port, clock::duration hold, bool reserve);
  void release(std::uint16_t port) { table_.release(port); }
  void clear() { table_.clear(); }

 private:
  registry();
  void arm(clock::time_point deadline);
  void on_timer();

  registry_strand strand_;
  asio::basic_waitable_timer<clock, asio::wait_traits<clock>, registry_strand> timer_;
  std::optional<clock::time_point> armed_for_;
  lock_table table_;
};

}  // namespace portprobe::detail
