#include <portprobe/detail/finder.hpp>

#include <optional>
#include <random>
#include <utility>
#include <vector>

#include <asio/error.hpp>
#include <asio/ip/address.hpp>

#include <portprobe/detail/port_search.hpp>
#include <portprobe/get_port.hpp>
#include <portprobe/detail/probe.hpp>

#include "registry.hpp"

namespace portprobe::detail {

namespace {

// Probes per visit of the registry strand: long enough to make the common case
// one visit, short enough that other callers and a cancellation get in soon.
constexpr int probes_per_visit = 64;

std::uint32_t sweep_seed() {
  thread_local std::minstd_rand rng(std::random_device{}());
  return static_cast<std::uint32_t>(rng());
}

}  // namespace

struct finder::impl {
  std::error_code ec;
  bool explicit_host = false;
  std::vector<asio::ip::address> targets;   // probed and closed, in order
  std::optional<asio::ip::address> keep_on;  // listen mode: bound and kept last
  registry::clock::duration hold{0};
  bool reserve = false;
  std::optional<port_search> search;

  bool finished = false;
  bool locked = false;
  std::uint16_t port = 0;
  int fd = -1;                // the kept socket of the found port
  int pending_fd = -1;        // the kept socket of the last probe, until the search decides
  asio::ip::tcp protocol = asio::ip::tcp::v4();

  struct outcome {
    verdict v;
    std::uint16_t port;
    std::error_code ec;
    int fd;
  };

  // One port on every target (port 0: the OS picks on the first target, and the
  // others are probed with its pick).
  outcome probe_port(std::uint16_t p) const {
    bool any_bound = false;
    for (const auto& t : targets) {
      const probe_result r = probe_listen(t, p, false);
      if (r.verdict == verdict::unavailable && !explicit_host) continue;  // skip that host
      if (r.verdict != verdict::free) return {r.verdict, p, r.ec, -1};
      p = r.port;
      any_bound = true;
    }
    if (keep_on) {
      const probe_result r = probe_listen(*keep_on, p, true);
      if (r.verdict != verdict::free) return {r.verdict, p, r.ec, -1};
      return {verdict::free, r.port, {}, r.fd};
    }
    if (!any_bound) {
      return {verdict::failed, p, std::make_error_code(std::errc::address_not_available), -1};
    }
    return {verdict::free, p, {}, -1};
  }

  bool fail(std::error_code e) {
    ec = e;
    finished = true;
    return true;
  }
};

finder::finder(const get_port_options& options, bool listen) : impl_(std::make_unique<impl>()) {
  impl& s = *impl_;
  if (options.hold < std::chrono::milliseconds::zero()) {
    s.ec = asio::error::invalid_argument;
    return;
  }
  // Saturated: milliseconds::max() ("forever") must not overflow the clock's
  // nanoseconds.
  using clock_duration = registry::clock::duration;
  s.hold = options.hold >= std::chrono::duration_cast<std::chrono::milliseconds>(
                               clock_duration::max())
               ? clock_duration::max()
               : std::chrono::duration_cast<clock_duration>(options.hold);
  s.reserve = options.reserve;
  if (options.host.empty()) {
    s.targets = default_probe_targets();
    if (listen) s.keep_on = asio::ip::address(asio::ip::address_v4::loopback());
  } else {
    std::error_code ec;
    const asio::ip::address address = asio::ip::make_address(options.host, ec);
    if (ec) {
      s.ec = asio::error::invalid_argument;
      return;
    }
    s.explicit_host = true;
    if (listen) {
      s.keep_on = address;  // the probe's own socket becomes the acceptor
    } else {
      s.targets = {address};
    }
  }
  if (s.keep_on) s.protocol = s.keep_on->is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4();
  s.search.emplace(options.port, options.exclude, options.fallback, sweep_seed());
}

finder::finder(finder&&) noexcept = default;
finder& finder::operator=(finder&&) noexcept = default;

finder::~finder() {
  if (impl_) {
    close_socket(impl_->fd);
    close_socket(impl_->pending_fd);
  }
}

std::error_code finder::error() const noexcept { return impl_->ec; }

bool finder::run() {
  impl& s = *impl_;
  if (s.finished) return true;
  registry& reg = registry::instance();
  const lock_table::view_at locks(reg.table(), registry::clock::now());
  for (int i = 0; i < probes_per_visit; ++i) {
    const port_search::action a = s.search->next(locks);
    if (a.kind == port_search::action_kind::found) {
      if (!reg.try_lock(a.port, s.hold, s.reserve)) {
        // Cannot happen: the search checked the lock on this same strand visit.
        close_socket(std::exchange(s.pending_fd, -1));
        return s.fail(asio::error::try_again);
      }
      s.locked = true;
      s.port = a.port;
      s.fd = std::exchange(s.pending_fd, -1);
      s.finished = true;
      return true;
    }
    close_socket(std::exchange(s.pending_fd, -1));  // that probe's port was not taken
    if (a.kind == port_search::action_kind::exhausted) {
      return s.fail(error::no_available_port);
    }
    const impl::outcome o = s.probe_port(a.kind == port_search::action_kind::pick ? 0 : a.port);
    if (o.v == verdict::failed || (o.v == verdict::unavailable && s.explicit_host)) {
      return s.fail(o.ec);
    }
    s.pending_fd = o.fd;
    s.search->on_probe(o.v == verdict::free ? o.port : a.port, o.v == verdict::free);
  }
  return false;  // the search goes on at the next visit (a kept socket stays pending)
}

bool finder::abandon() {
  impl& s = *impl_;
  const bool had = s.locked || s.fd >= 0;
  if (s.locked) registry::instance().release(s.port);
  s.locked = false;
  close_socket(std::exchange(s.fd, -1));
  close_socket(std::exchange(s.pending_fd, -1));
  if (!s.ec) s.ec = asio::error::operation_aborted;
  s.finished = true;
  return had;
}

bool finder::finished() const noexcept { return impl_->finished; }

bool finder::holds_result() const noexcept { return impl_->locked || impl_->fd >= 0; }

std::uint16_t finder::port() const noexcept { return impl_->port; }

int finder::take_socket() noexcept {
  const int fd = impl_->fd;
  impl_->fd = -1;
  return fd;
}

asio::ip::tcp finder::protocol() const noexcept { return impl_->protocol; }

}  // namespace portprobe::detail
