// lib/lease_table.hpp: the lease table that every portprobe process of a user
// in a network namespace shares (../shared/design/shared-locks.md). Private to
// the library.
//
// The table is 65,536 slots of one 64-bit word, one per port. A word is 0
// (free) or `expiry << 24 | tag`: the expiry in milliseconds of CLOCK_BOOTTIME,
// the tag the owner's pid with bit 23 set for a reservation. A slot is held
// exactly while its expiry is in the future. Every change is one
// compare-and-swap: no lock lives in the mapping, so a process killed at any
// instruction leaves nothing wedged.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portprobe::detail {

/// The rules of one slot word, as plain functions (tested without a file).
namespace lease_word {
inline constexpr int tag_bits = 24;
inline constexpr std::uint32_t tag_mask = (1u << tag_bits) - 1;
inline constexpr std::uint32_t reserved_bit = 1u << 23;
inline constexpr std::uint32_t pid_mask = reserved_bit - 1;  // pids are below 2^22 on Linux
/// The largest expiry a word holds (about 34 years of uptime): holds saturate there.
inline constexpr std::uint64_t max_expiry = (std::uint64_t{1} << (64 - tag_bits)) - 1;

constexpr std::uint64_t make(std::uint64_t expiry_ms, std::uint32_t tag) noexcept {
  return (expiry_ms > max_expiry ? max_expiry : expiry_ms) << tag_bits | (tag & tag_mask);
}
constexpr std::uint64_t expiry(std::uint64_t word) noexcept { return word >> tag_bits; }
constexpr std::uint32_t tag(std::uint64_t word) noexcept {
  return static_cast<std::uint32_t>(word & tag_mask);
}
constexpr bool held(std::uint64_t word, std::uint64_t now_ms) noexcept {
  return word != 0 && expiry(word) > now_ms;
}
/// now + duration, saturated at max_expiry.
constexpr std::uint64_t deadline(std::uint64_t now_ms, std::uint64_t duration_ms) noexcept {
  return duration_ms >= max_expiry - now_ms ? max_expiry : now_ms + duration_ms;
}
/// The tag of a process: its pid, with the reserved bit for a reservation.
constexpr std::uint32_t make_tag(int pid, bool reserved) noexcept {
  return (static_cast<std::uint32_t>(pid) & pid_mask) | (reserved ? reserved_bit : 0u);
}
}  // namespace lease_word

/// The slots, over any memory of 65,536 words (the mapping, or a test's vector).
/// Thread- and process-safe: every operation is atomic on its slot.
class lease_slots {
 public:
  static constexpr std::size_t count = 65536;

  explicit lease_slots(std::uint64_t* words) noexcept : words_(words) {}

  /// Takes `port` from `now_ms` for `duration_ms` under `tag`, when it is free
  /// or expired. Returns our word, or nothing when another lease holds it.
  std::optional<std::uint64_t> claim(std::uint16_t port, std::uint64_t now_ms,
                                     std::uint64_t duration_ms, std::uint32_t tag) noexcept;
  /// Ends our lease: swaps `word` to 0, never another word. False when the slot
  /// no longer holds `word` (it lapsed and was taken).
  bool release(std::uint16_t port, std::uint64_t word) noexcept;
  /// Extends our lease: swaps `old_word` to `new_word`. False when the slot no
  /// longer holds `old_word`: the lease is lost.
  bool renew(std::uint16_t port, std::uint64_t old_word, std::uint64_t new_word) noexcept;
  /// The word of `port` now.
  std::uint64_t load(std::uint16_t port) const noexcept;

 private:
  std::uint64_t* words_;
};

/// Why a lease table could not be used (the in-process fallback then applies).
struct lease_table_location {
  std::string directory;  ///< PORTPROBE_LOCK_DIR, else /dev/shm
  std::string file_name;  ///< portprobe-v1-u<euid>-n<netns inode>
  std::string path() const { return directory + "/" + file_name; }
};

/// Where this process's table is, from the environment and /proc/self/ns/net.
/// Empty `file_name` (with `why`) when it cannot be told.
lease_table_location default_lease_table_location(std::string& why);

/// A mapped table file. Opening it creates it when missing (fully allocated,
/// published atomically) and refuses anything unsafe: a symlink, another
/// owner, group or other permission bits, more than one link, another size,
/// magic, version or boot id. A refusal creates and changes nothing.
class lease_table_file {
 public:
  static std::unique_ptr<lease_table_file> open(const lease_table_location& where,
                                                std::string& why);
  ~lease_table_file();
  lease_table_file(const lease_table_file&) = delete;
  lease_table_file& operator=(const lease_table_file&) = delete;

  lease_slots slots() const noexcept { return lease_slots(words_); }
  const std::string& path() const noexcept { return path_; }

  /// The file's size: one header page, then the slots.
  static constexpr std::size_t header_size = 4096;
  static constexpr std::size_t file_size = header_size + lease_slots::count * 8;

 private:
  lease_table_file(void* base, std::uint64_t* words, std::string path) noexcept
      : base_(base), words_(words), path_(std::move(path)) {}
  void* base_;
  std::uint64_t* words_;
  std::string path_;
};

/// Why the start of a table file (`size` bytes at `page`: its header) is not a
/// table this process may use: another magic, version or slot count, or a boot
/// id other than `boot_id` (this boot's, 36 characters). Empty when it is one.
/// Reads nothing else; any bytes are safe (the fuzz target feeds it).
std::string lease_table_header_problem(const void* page, std::size_t size, std::string_view boot_id);

/// Milliseconds of CLOCK_BOOTTIME (goes on across suspend, system-wide).
std::uint64_t boot_time_ms() noexcept;

}  // namespace portprobe::detail
