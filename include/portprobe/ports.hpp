// portprobe/ports.hpp: port numbers, ranges and lists.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <ranges>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <portprobe/config.hpp>

namespace portprobe {

/// Lowest port that port_numbers() accepts (the first unprivileged port).
inline constexpr std::uint16_t min_port = 1024;
/// Highest TCP port.
inline constexpr std::uint16_t max_port = 65535;

/// An inclusive, ascending range of ports, generated lazily: a
/// std::ranges::forward_range of std::uint16_t with size(). A value type:
/// copies are independent and it may be used from any thread.
class port_range {
 public:
  class iterator {
   public:
    using iterator_concept = std::forward_iterator_tag;
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::uint16_t;
    using difference_type = std::ptrdiff_t;
    using reference = std::uint16_t;
    using pointer = void;

    constexpr iterator() noexcept = default;
    constexpr explicit iterator(std::uint32_t value) noexcept : value_(value) {}
    constexpr std::uint16_t operator*() const noexcept {
      return static_cast<std::uint16_t>(value_);
    }
    constexpr iterator& operator++() noexcept {
      ++value_;
      return *this;
    }
    constexpr iterator operator++(int) noexcept {
      iterator old = *this;
      ++value_;
      return old;
    }
    friend constexpr bool operator==(iterator, iterator) noexcept = default;

   private:
    std::uint32_t value_ = 0;
  };

  /// The empty range.
  constexpr port_range() noexcept = default;

  constexpr iterator begin() const noexcept { return iterator(from_); }
  constexpr iterator end() const noexcept { return iterator(end_); }
  constexpr std::size_t size() const noexcept { return end_ - from_; }
  constexpr bool empty() const noexcept { return end_ == from_; }
  /// First and last port of a non-empty range.
  constexpr std::uint16_t front() const noexcept { return static_cast<std::uint16_t>(from_); }
  constexpr std::uint16_t back() const noexcept { return static_cast<std::uint16_t>(end_ - 1); }
  constexpr bool contains(std::uint32_t port) const noexcept {
    return port >= from_ && port < end_;
  }

 private:
  friend PORTPROBE_API port_range port_numbers(int from, int to);
  constexpr port_range(std::uint32_t from, std::uint32_t end) noexcept
      : from_(from), end_(end) {}
  std::uint32_t from_ = 0;
  std::uint32_t end_ = 0;
};

/// The ports from `from` to `to`, both included, in ascending order.
///
/// Throws std::out_of_range ("'from' must be between 1024 and 65535", or 'to')
/// when a bound lies outside [min_port, max_port], and std::invalid_argument
/// ("`to` must be greater than or equal to `from`") when to < from.
PORTPROBE_API port_range port_numbers(int from, int to);

/// An ordered list of ports (1-65535), empty by default. Duplicates are kept;
/// order is the caller's. Stored as runs of consecutive ports, so a list made
/// from port_numbers(1024, 65535) takes a few bytes, not 128 KiB.
///
/// Constructible (implicitly) from a single port, a braced list, a port_range
/// and any range of integral values. A value out of 1-65535 throws
/// std::out_of_range naming the value. A value type, safe to copy across threads.
class PORTPROBE_API port_list {
  struct run {
    std::uint16_t first;
    std::uint16_t last;
    friend bool operator==(const run&, const run&) = default;
  };

 public:
  class iterator {
   public:
    using iterator_concept = std::forward_iterator_tag;
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::uint16_t;
    using difference_type = std::ptrdiff_t;
    using reference = std::uint16_t;
    using pointer = void;

    iterator() noexcept = default;
    std::uint16_t operator*() const noexcept { return static_cast<std::uint16_t>(value_); }
    iterator& operator++() noexcept {
      if (value_ < run_->last) {
        ++value_;
      } else {
        ++run_;
        value_ = run_ != end_ ? run_->first : 0;
      }
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.run_ == b.run_ && a.value_ == b.value_;
    }

   private:
    friend class port_list;
    iterator(const run* r, const run* end) noexcept
        : run_(r), end_(end), value_(r != end ? r->first : 0) {}
    const run* run_ = nullptr;
    const run* end_ = nullptr;
    std::uint32_t value_ = 0;
  };

  /// The empty list.
  port_list() = default;

  /// One port.
  template <std::integral Int>
    requires(!std::same_as<Int, bool>)
  port_list(Int port) {  // NOLINT(google-explicit-constructor): `opts.port = 3000`
    push_back(port);
  }

  /// A braced list of ports, in the given order: `{3000, 3001}`.
  port_list(std::initializer_list<long long> ports) {
    for (long long p : ports) push_back(p);
  }

  /// A range of ports: port_numbers(3000, 3100), in ascending order.
  port_list(const port_range& range) {  // NOLINT(google-explicit-constructor)
    if (!range.empty()) runs_.push_back({range.front(), range.back()});
    size_ = range.size();
  }

  /// Any range of integral ports (a std::vector<int>, a std::array, a view...).
  template <std::ranges::input_range R>
    requires(std::integral<std::remove_cvref_t<std::ranges::range_value_t<R>>> &&
             !std::same_as<std::remove_cvref_t<R>, port_list> &&
             !std::same_as<std::remove_cvref_t<R>, port_range>)
  port_list(R&& ports) {  // NOLINT(google-explicit-constructor)
    for (auto&& p : ports) push_back(p);
  }

  /// Appends a port. Throws std::out_of_range naming the value when it is not in 1-65535.
  template <std::integral Int>
  void push_back(Int port) {
    if (!std::in_range<std::uint16_t>(port) || port == 0) {
      throw std::out_of_range(out_of_range_message(std::to_string(port)));
    }
    append(static_cast<std::uint16_t>(port));
  }

  iterator begin() const noexcept { return {runs_.data(), runs_.data() + runs_.size()}; }
  iterator end() const noexcept {
    const run* e = runs_.data() + runs_.size();
    return {e, e};
  }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  /// Whether the list holds `port`. Linear in the number of runs.
  bool contains(std::uint32_t port) const noexcept;

  friend bool operator==(const port_list&, const port_list&) = default;

 private:
  static std::string out_of_range_message(const std::string& value);
  void append(std::uint16_t port);

  std::vector<run> runs_;
  std::size_t size_ = 0;
};

/// Parses the command line's port-list grammar: comma-separated items, each a
/// port ("3000") or an inclusive range ("3000-3100"): "3000,3005,4000-4010".
/// Ports are 1-65535. Spaces around items are allowed. Throws
/// std::invalid_argument, with a message naming the bad item, for an empty list
/// or item, a value that is not a number, a port out of range, a reversed range
/// ("5000-4000") or a malformed one ("1-2-3").
PORTPROBE_API port_list parse_port_list(std::string_view text);

}  // namespace portprobe

static_assert(std::ranges::forward_range<portprobe::port_range>);
static_assert(std::ranges::sized_range<portprobe::port_range>);
static_assert(std::ranges::forward_range<portprobe::port_list>);
