#include <portprobe/detail/finder.hpp>

#include <optional>
#include <random>
#include <utility>
#include <vector>

#include <asio/error.hpp>
#include <asio/ip/address.hpp>

#include <portprobe/detail/port_search.hpp>
#include <portprobe/detail/probe.hpp>
#include <portprobe/get_port.hpp>

#include "registry.hpp"

namespace portprobe::detail {

namespace {

std::uint32_t sweep_seed() {
  thread_local std::minstd_rand rng(std::random_device{}());
  return static_cast<std::uint32_t>(rng());
}

}  // namespace

struct finder::impl {
  // What was asked.
  port_request request = port_request::one;
  std::size_t count = 1;
  bool explicit_host = false;
  std::vector<asio::ip::address> targets;    // probed and closed, in order
  std::optional<asio::ip::address> keep_on;  // listen mode: bound and kept last
  std::optional<asio::ip::address> time_wait_on;
  registry::duration hold{0};
  bool reserve = false;
  std::optional<port_search> search;
  asio::ip::tcp protocol = asio::ip::tcp::v4();

  // Where it stands.
  std::error_code ec;
  bool ending = false;  // giving everything back (error or cancellation)
  bool done = false;
  registry* reg = nullptr;
  std::vector<std::uint16_t> ports;
  std::vector<std::uint64_t> tickets;
  int fd = -1;  // listen mode: the kept socket of the answer

  struct claim_request {
    std::uint16_t port;
    bool picked;  // an OS pick, probed already
    int fd;       // its kept socket (listen mode), or -1
  };
  std::optional<claim_request> claim;              // asked of the next registry visit
  std::optional<std::optional<std::uint64_t>> claimed;  // its answer: a ticket, or locked
  std::vector<std::pair<std::uint16_t, std::uint64_t>> to_release;
  bool visit_failed = false;  // the registry visit ran out of memory

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

  bool fatal(const outcome& o) const {
    return o.v == verdict::failed || (o.v == verdict::unavailable && explicit_host);
  }

  void fail(std::error_code e) {
    if (!ec) ec = e;
    ending = true;
  }

  void take(std::uint16_t port, std::uint64_t ticket, int kept) {
    ports.push_back(port);
    tickets.push_back(ticket);
    if (kept >= 0) fd = kept;
    search->on_result(port, port_search::outcome::taken);
  }

  // The answer of the last registry visit.
  void on_claimed() {
    const claim_request c = *claim;
    const std::optional<std::uint64_t> ticket = *claimed;
    claim.reset();
    claimed.reset();
    if (!ticket) {  // locked by this process or another: skipped, not probed
      close_socket(c.fd);
      search->on_result(c.port, port_search::outcome::locked);
      return;
    }
    if (ending) {
      close_socket(c.fd);
      to_release.emplace_back(c.port, *ticket);
      return;
    }
    if (c.picked) {
      take(c.port, *ticket, c.fd);
      return;
    }
    const outcome o = probe_port(c.port);
    if (o.v == verdict::free) {
      take(c.port, *ticket, o.fd);
      return;
    }
    to_release.emplace_back(c.port, *ticket);
    if (fatal(o)) {
      fail(o.ec);
    } else {
      search->on_result(c.port, port_search::outcome::busy);
    }
  }

  // Gives back every claim and socket: to_release for the next visit.
  void give_back() {
    for (std::size_t i = 0; i < ports.size(); ++i) to_release.emplace_back(ports[i], tickets[i]);
    ports.clear();
    tickets.clear();
    close_socket(std::exchange(fd, -1));
  }

  need step() {
    if (reg == nullptr) reg = &registry::instance();
    for (;;) {
      if (visit_failed) {
        visit_failed = false;
        claimed.emplace(std::nullopt);
        fail(std::make_error_code(std::errc::not_enough_memory));
      }
      if (claimed) on_claimed();
      if (ending) {
        give_back();
        if (!to_release.empty()) return need::registry;
        done = true;
        return need::done;
      }
      if (ports.size() == count) {
        if (time_wait_on) {
          for (const std::uint16_t p : ports) {
            std::error_code e = park_in_time_wait(*time_wait_on, p);
            if (!explicit_host && (e == std::errc::address_not_available ||
                                   e == std::errc::address_family_not_supported ||
                                   e == std::errc::network_unreachable)) {
              e = park_in_time_wait(asio::ip::address_v6::loopback(), p);
            }
            if (e) {
              fail(e);
              break;
            }
          }
          time_wait_on.reset();
          if (ending) continue;
        }
        done = true;
        return to_release.empty() ? need::done : need::registry;
      }
      const port_search::action a = search->next();
      switch (a.kind) {
        case port_search::action_kind::exhausted:
          fail(error::no_available_port);
          continue;
        case port_search::action_kind::probe:
          claim = claim_request{a.port, false, -1};
          return need::registry;
        case port_search::action_kind::pick: {
          const outcome o = probe_port(0);
          if (fatal(o)) {
            search->on_result(0, port_search::outcome::busy);
            fail(o.ec);
            continue;
          }
          if (o.v != verdict::free || !search->acceptable(o.port)) {
            close_socket(o.fd);
            search->on_result(o.v == verdict::free ? o.port : 0, port_search::outcome::busy);
            continue;
          }
          claim = claim_request{o.port, true, o.fd};
          return need::registry;
        }
      }
    }
  }
};

finder::finder(const get_port_options& options, port_request request, std::size_t count)
    : impl_(std::make_unique<impl>()) {
  impl& s = *impl_;
  s.request = request;
  s.count = request == port_request::many ? count : 1;
  if (options.hold < std::chrono::milliseconds::zero() ||
      (options.time_wait && request == port_request::listen)) {
    s.ec = asio::error::invalid_argument;
    s.done = true;
    return;
  }
  if (s.count == 0) {
    s.done = true;
    return;
  }
  // Saturated: milliseconds::max() ("forever") must not overflow the clock's
  // nanoseconds.
  using clock_duration = registry::duration;
  s.hold = options.hold >= std::chrono::duration_cast<std::chrono::milliseconds>(
                               clock_duration::max())
               ? clock_duration::max()
               : std::chrono::duration_cast<clock_duration>(options.hold);
  s.reserve = options.reserve;
  const bool listen = request == port_request::listen;
  if (options.host.empty()) {
    s.targets = default_probe_targets();
    if (listen) s.keep_on = asio::ip::address(asio::ip::address_v4::loopback());
    // On 127.0.0.1, or on ::1 where there is no IPv4 (see step()).
    if (options.time_wait) s.time_wait_on = asio::ip::address(asio::ip::address_v4::loopback());
  } else {
    std::error_code ec;
    const asio::ip::address address = asio::ip::make_address(options.host, ec);
    if (ec) {
      s.ec = asio::error::invalid_argument;
      s.done = true;
      return;
    }
    s.explicit_host = true;
    if (listen) {
      s.keep_on = address;  // the probe's own socket becomes the acceptor
    } else {
      s.targets = {address};
    }
    if (options.time_wait) s.time_wait_on = address;
  }
  if (s.keep_on) s.protocol = s.keep_on->is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4();
  std::optional<std::pair<std::uint16_t, std::uint16_t>> avoid;
  port_search::fallback_kind fallback = port_search::fallback_kind::none;
  if (options.avoid_ephemeral) {
    avoid = ephemeral_port_range();
    if (options.fallback) fallback = port_search::fallback_kind::sweep;
  } else if (options.fallback) {
    fallback = port_search::fallback_kind::os_then_sweep;
  }
  s.search.emplace(options.port, options.exclude, fallback, sweep_seed(), avoid);
}

finder::finder(finder&&) noexcept = default;
finder& finder::operator=(finder&&) noexcept = default;

finder::~finder() {
  if (impl_) {
    close_socket(impl_->fd);
    if (impl_->claim) close_socket(impl_->claim->fd);
  }
}

finder::need finder::advance() noexcept {
  impl& s = *impl_;
  if (s.done && s.to_release.empty()) return need::done;
  try {
    return s.step();
  } catch (...) {  // out of memory: give back what is held, report it
    s.fail(std::make_error_code(std::errc::not_enough_memory));
    if (s.reg == nullptr) {
      s.done = true;
      return need::done;
    }
    s.give_back();
    s.done = s.to_release.empty();
    return s.done ? need::done : need::registry;
  }
}

void finder::on_registry() noexcept {
  impl& s = *impl_;
  try {
    for (const auto& [port, ticket] : s.to_release) s.reg->release(port, ticket);
    s.to_release.clear();
    if (s.claim) s.claimed.emplace(s.reg->claim(s.claim->port, s.hold, s.reserve));
  } catch (...) {
    s.visit_failed = s.claim.has_value() && !s.claimed;
  }
}

const registry_strand& finder::strand() const noexcept { return impl_->reg->strand(); }

void finder::cancel() noexcept {
  impl& s = *impl_;
  if (s.ec == asio::error::operation_aborted) return;
  s.ec = asio::error::operation_aborted;
  s.ending = true;
  s.done = false;
  if (s.reg == nullptr) s.done = true;  // nothing started: nothing to give back
}

std::error_code finder::error() const noexcept { return impl_->ec; }

const std::vector<std::uint16_t>& finder::ports() const noexcept { return impl_->ports; }

int finder::take_socket() noexcept { return std::exchange(impl_->fd, -1); }

asio::ip::tcp finder::protocol() const noexcept { return impl_->protocol; }

}  // namespace portprobe::detail
