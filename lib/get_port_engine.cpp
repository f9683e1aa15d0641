#include <portprobe/detail/get_port_engine.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "asio_lib.hpp"

#include "port_search.hpp"
#include "probe.hpp"
#include <portprobe/get_port.hpp>

#include "registry.hpp"

namespace portprobe::detail {

namespace {

std::uint32_t sweep_seed() {
  thread_local std::minstd_rand rng(std::random_device{}());
  return static_cast<std::uint32_t>(rng());
}

using ticket_list = std::vector<std::pair<std::uint16_t, std::uint64_t>>;

}  // namespace

struct get_port_engine::impl {
  // What was asked (the search itself is made at the first step: it reads
  // /proc and may probe `::` once, which the initiating function must not).
  port_request request = port_request::one;
  std::size_t count = 1;
  get_port_options options;
  bool explicit_host = false;
  std::optional<asio::ip::address> host;     // the explicit host
  std::vector<asio::ip::address> targets;    // probed and closed, in order
  std::optional<asio::ip::address> keep_on;  // listen mode: bound and kept last
  registry::duration hold{0};
  bool reserve = false;
  std::optional<port_search> search;
  asio::ip::tcp protocol = asio::ip::tcp::v4();

  // Where it stands.
  error_code ec;
  bool ending = false;  // giving everything back (error or cancellation)
  bool done = false;
  registry* reg = nullptr;
  unsigned generation = 0;  // the fork generation `reg` belongs to
  struct taken {
    std::uint16_t port;
    std::uint64_t ticket;
    bool pending;  // claimed, not confirmed yet
  };
  std::vector<taken> found;
  std::vector<std::uint16_t> ports;  // the answer, once done
  std::size_t parked = 0;            // ports of `found` left in TIME_WAIT already
  int fd = -1;                       // listen mode: the kept socket of the answer

  struct claim_request {
    std::uint16_t port;
    bool picked;  // an OS pick, probed already
    int fd;       // its kept socket (listen mode), or -1
  };
  std::optional<claim_request> claim;                   // asked of the next registry visit
  std::optional<std::optional<std::uint64_t>> claimed;  // its answer: a ticket, or locked
  ticket_list to_release;
  bool confirming = false;          // the next visit confirms the pending claims
  std::optional<std::vector<bool>> confirmed;  // its answer, per entry of `found`
  bool visit_failed = false;        // the registry visit ran out of memory

  // The driver's (start_get_port_engine).
  // The caller's I/O executor, where the probes run: a plain io_context's
  // (posted to without type erasure, the common case), or any other.
  asio::io_context* context = nullptr;
  asio::any_io_executor ex;
  template <typename F>
  void post_step(F&& f) {
    if (context != nullptr) {
      asio::post(context->get_executor(), std::forward<F>(f));
    } else {
      asio::post(ex, std::forward<F>(f));
    }
  }
  /// The caller's context's link (made on the caller's thread at the start):
  /// every registry visit posts its next step through it.
  std::shared_ptr<registry_link::state> link;
  std::atomic<bool> cancel_requested{false};  // set from the operation's cancellation slot

  struct outcome {
    bind_verdict v;
    std::uint16_t port;
    error_code ec;
    int fd;
  };

  // One port on every target (port 0: the OS picks on the first target, and the
  // others are probed with its pick).
  outcome probe_port(std::uint16_t p) const {
    bool any_bound = false;
    for (const auto& t : targets) {
      const bind_result r = bind_probe(t, p, after_probe::close);
      if (r.verdict == bind_verdict::unavailable && !explicit_host) continue;  // skip that host
      if (r.verdict != bind_verdict::free) return {r.verdict, p, r.ec, -1};
      p = r.port;
      any_bound = true;
    }
    if (keep_on) {
      const bind_result r = bind_probe(*keep_on, p, after_probe::keep);
      if (r.verdict != bind_verdict::free) return {r.verdict, p, r.ec, -1};
      return {bind_verdict::free, r.port, {}, r.fd};
    }
    if (!any_bound) {
      return {bind_verdict::failed, p, detail::make_errc(std::errc::address_not_available), -1};
    }
    return {bind_verdict::free, p, {}, -1};
  }

  bool fatal(const outcome& o) const {
    return o.v == bind_verdict::failed || (o.v == bind_verdict::unavailable && explicit_host);
  }

  void fail(error_code e) {
    if (!ec) ec = e;
    ending = true;
  }

  // The first step: the probe targets and the search order.
  void start() {
    reg = &registry::instance();
    generation = reg->generation();
    const bool listen = request == port_request::listen;
    if (!explicit_host) {
      targets = default_probe_targets();
      if (listen) keep_on = asio::ip::address(asio::ip::address_v4::loopback());
    } else if (listen) {
      keep_on = host;  // the probe's own socket becomes the acceptor
    } else {
      targets = {*host};
    }
    if (keep_on) protocol = keep_on->is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4();
    std::optional<std::pair<std::uint16_t, std::uint16_t>> avoid;
    port_search::fallback_kind fallback = port_search::fallback_kind::none;
    if (options.avoid_ephemeral) {
      avoid = ephemeral_port_range();
      if (options.fallback) fallback = port_search::fallback_kind::sweep;
    } else if (options.fallback) {
      fallback = port_search::fallback_kind::os_then_sweep;
    }
    search.emplace(options.port, options.exclude, fallback, sweep_seed(), avoid);
    options.port = port_list();
    options.exclude = port_list();
  }

  // A copy of an operation of the parent, going on in a forked child: what it
  // holds is the parent's (never released from here), and the child has a
  // registry of its own.
  void after_fork() {
    found.clear();
    to_release.clear();
    claimed.reset();
    confirmed.reset();
    confirming = false;
    parked = 0;
    if (claim) {  // the try under way ends as "locked": the parent's, if anyone's
      close_socket(claim->fd);
      search->on_result(claim->port, port_search::outcome::locked);
      claim.reset();
    }
    close_socket(std::exchange(fd, -1));
    reg = &registry::instance();
    generation = reg->generation();
  }

  void take(std::uint16_t port, std::uint64_t ticket, int kept, bool pending) {
    found.push_back({port, ticket, pending});
    if (kept >= 0) fd = kept;
    search->on_result(port, port_search::outcome::taken);
  }

  // The answer of the last registry visit to a claim.
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
      take(c.port, *ticket, c.fd, count != 1);
      return;
    }
    const outcome o = probe_port(c.port);
    if (o.v == bind_verdict::free) {
      take(c.port, *ticket, o.fd, true);
      return;
    }
    to_release.emplace_back(c.port, *ticket);
    if (fatal(o)) {
      fail(o.ec);
    } else {
      search->on_result(c.port, port_search::outcome::busy);
    }
  }

  // The answer of the last confirm visit: a claim that was lost (its lease
  // lapsed and another process took it) is not ours; the search goes on.
  void on_confirmed() {
    const std::vector<bool> ok = std::move(*confirmed);
    confirmed.reset();
    std::vector<taken> kept;
    for (std::size_t i = 0; i < found.size(); ++i) {
      if (ok[i]) {
        kept.push_back({found[i].port, found[i].ticket, false});
      } else if (request == port_request::listen) {
        close_socket(std::exchange(fd, -1));
      }
    }
    parked = std::min(parked, kept.size());
    found = std::move(kept);
  }

  // Gives back every claim and socket: to_release for the next visit.
  void give_back() {
    for (const taken& t : found) to_release.emplace_back(t.port, t.ticket);
    found.clear();
    close_socket(std::exchange(fd, -1));
  }

  bool any_pending() const {
    return std::any_of(found.begin(), found.end(), [](const taken& t) { return t.pending; });
  }

  error_code park(std::uint16_t p) const {
    if (explicit_host) return park_in_time_wait(*host, p);
    // On 127.0.0.1, or on ::1 where there is no IPv4.
    error_code e = park_in_time_wait(asio::ip::address_v4::loopback(), p);
    if (e == std::errc::address_not_available || e == std::errc::address_family_not_supported ||
        e == std::errc::network_unreachable) {
      e = park_in_time_wait(asio::ip::address_v6::loopback(), p);
    }
    return e;
  }

  need step() {
    if (reg == nullptr) {
      start();
    } else if (registry::current_generation() != generation) {
      after_fork();
    }
    for (;;) {
      if (visit_failed) {
        visit_failed = false;
        if (claim) claimed.emplace(std::nullopt);
        if (confirming) {
          confirming = false;
          confirmed.emplace(found.size(), true);  // kept as they are: given back below
        }
        fail(detail::make_errc(std::errc::not_enough_memory));
      }
      if (claimed) on_claimed();
      if (confirmed) on_confirmed();
      if (ending) {
        give_back();
        if (!to_release.empty()) return need::registry;
        done = true;
        return need::done;
      }
      if (found.size() == count) {
        if (options.time_wait) {
          for (; parked < found.size() && !ending; ++parked) {
            const error_code e = park(found[parked].port);
            if (e) fail(e);
          }
          if (ending) continue;
        }
        // The holds count from now: the claims are confirmed as the operation ends.
        if (any_pending()) {
          confirming = true;
          return need::registry;
        }
        for (const taken& t : found) ports.push_back(t.port);
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
          if (o.v != bind_verdict::free || !search->acceptable(o.port)) {
            close_socket(o.fd);
            search->on_result(o.v == bind_verdict::free ? o.port : 0, port_search::outcome::busy);
            continue;
          }
          claim = claim_request{o.port, true, o.fd};
          return need::registry;
        }
      }
    }
  }

  // What is still held (an operation destroyed before completing): given back
  // through the registry's strand, from whatever thread destroys it.
  ticket_list held() const {
    ticket_list out = to_release;
    for (const taken& t : found) out.emplace_back(t.port, t.ticket);
    if (claim && claimed && *claimed) out.emplace_back(claim->port, **claimed);
    return out;
  }
};

get_port_engine::get_port_engine(const get_port_options& options, port_request request, std::size_t count)
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
  if (s.count > max_port) {  // more than there are ports: nothing to search for
    s.ec = error::no_available_port;
    s.done = true;
    return;
  }
  if (!options.host.empty()) {
    error_code ec;
    const asio::ip::address address = asio::ip::make_address(options.host, ec);
    if (ec) {
      s.ec = asio::error::invalid_argument;
      s.done = true;
      return;
    }
    s.explicit_host = true;
    s.host = address;
  }
  // Saturated: milliseconds::max() ("forever") must not overflow the clock's
  // nanoseconds.
  using clock_duration = registry::duration;
  s.hold = options.hold >= std::chrono::duration_cast<std::chrono::milliseconds>(
                               clock_duration::max())
               ? clock_duration::max()
               : std::chrono::duration_cast<clock_duration>(options.hold);
  s.reserve = options.reserve;
  s.options = options;
}

get_port_engine::~get_port_engine() {
  if (!impl_) return;
  impl& s = *impl_;
  close_socket(s.fd);
  if (s.claim) close_socket(s.claim->fd);
  if (s.reg == nullptr || registry::current_generation() != s.generation) return;
  try {
    ticket_list held = s.held();
    if (held.empty()) return;
    registry* r = s.reg;
    asio::post(r->strand(), [r, held = std::move(held)] {
      for (const auto& [port, ticket] : held) r->release(port, ticket);
    });
  } catch (...) {
    // Out of memory: the holds end by themselves (a reservation with the process).
  }
}

get_port_engine::need get_port_engine::advance() noexcept {
  impl& s = *impl_;
  if (s.done && s.to_release.empty()) return need::done;
  try {
    return s.step();
  } catch (...) {  // out of memory: give back what is held, report it
    s.fail(detail::make_errc(std::errc::not_enough_memory));
    if (s.reg == nullptr) {
      s.done = true;
      return need::done;
    }
    s.give_back();
    s.done = s.to_release.empty();
    return s.done ? need::done : need::registry;
  }
}

void get_port_engine::on_registry() noexcept {
  impl& s = *impl_;
  try {
    for (const auto& [port, ticket] : s.to_release) s.reg->release(port, ticket);
    s.to_release.clear();
    if (s.claim) {
      // An OS pick that ends a one-port operation is the lock at once; every
      // other claim is confirmed as the operation ends.
      const auto kind = s.claim->picked && s.count == 1 ? registry::claim_kind::final
                                                         : registry::claim_kind::pending;
      s.claimed.emplace(s.reg->claim(s.claim->port, s.hold, s.reserve, kind));
    }
    if (s.confirming) {
      std::vector<bool> ok(s.found.size(), true);
      for (std::size_t i = 0; i < s.found.size(); ++i) {
        if (s.found[i].pending) {
          ok[i] = s.reg->confirm(s.found[i].port, s.found[i].ticket, s.hold, s.reserve);
        }
      }
      s.confirming = false;
      s.confirmed.emplace(std::move(ok));
    }
  } catch (...) {
    s.visit_failed = (s.claim.has_value() && !s.claimed) || s.confirming;
  }
}

void get_port_engine::cancel() noexcept {
  impl& s = *impl_;
  if (s.ec == asio::error::operation_aborted) return;
  s.ec = asio::error::operation_aborted;
  s.ending = true;
  s.done = false;
  s.ports.clear();
  if (s.reg == nullptr) s.done = true;  // nothing started: nothing to give back
}

error_code get_port_engine::error() const noexcept { return impl_->ec; }

const std::vector<std::uint16_t>& get_port_engine::ports() const noexcept { return impl_->ports; }

void get_port_engine::hand_over() noexcept {
  impl_->found.clear();
  impl_->to_release.clear();
}

int get_port_engine::socket() const noexcept { return impl_->fd; }

int get_port_engine::take_socket() noexcept { return std::exchange(impl_->fd, -1); }

asio::ip::tcp get_port_engine::protocol() const noexcept { return impl_->protocol; }

// The search's driver: one step on the caller's executor, then, when the
// search asks, a visit to the registry's strand (entered with dispatch: inline
// when it is idle) and back to the caller's executor with post. Each step is
// posted, never run within the call that started the search.
// `done` travels with the steps, not inside the engine: the operation it holds
// owns the engine too, and a step destroyed unrun (its io_context destroyed
// first) must free both.
void get_port_engine::drive(std::shared_ptr<get_port_engine> self, one_shot done) {
  impl& s = *self->impl_;
  if (s.cancel_requested.load(std::memory_order_acquire)) self->cancel();
  if (self->advance() == need::registry) {
    const registry_strand& strand = s.reg->strand();
    // The visit may run here (the strand idle), on the registry's thread, or
    // on another caller's: its next step is posted through the context's
    // link, which the context's destruction waits for.
    std::shared_ptr<registry_link::state> link = s.link;
    registry_link::enter(*link);
    asio::dispatch(strand, [self = std::move(self), done = std::move(done),
                            link = std::move(link)]() mutable {
      self->on_registry();
      registry_link::leave(
          *link, [&] { post_drive(std::move(self), std::move(done)); },
          [&] {  // the context is being destroyed: so is the operation, here
            done = one_shot();
            self.reset();
          });
    });
    return;
  }
  self.reset();  // the operation holds the engine and its result
  done();
}

void get_port_engine::post_drive(std::shared_ptr<get_port_engine> self, one_shot done) {
  impl& s = *self->impl_;
  s.post_step([self = std::move(self), done = std::move(done)]() mutable {
    drive(std::move(self), std::move(done));
  });
}

void get_port_engine::start(std::shared_ptr<get_port_engine> engine,
                            asio::cancellation_slot slot, one_shot done) {
  if (slot.is_connected()) {
    // The slot's handler may run on any thread, at any time until the slot is
    // cleared: it only sets a flag that the next step reads.
    slot.assign([weak = std::weak_ptr<get_port_engine>(engine)](asio::cancellation_type) {
      if (auto e = weak.lock()) e->impl_->cancel_requested.store(true, std::memory_order_release);
    });
  }
  post_drive(std::move(engine), std::move(done));
}

void start_get_port_engine(const asio::any_io_executor& ex,
                           std::shared_ptr<get_port_engine> engine, asio::cancellation_slot slot,
                           one_shot done) {
  engine->impl_->ex = ex;
  engine->impl_->link = registry_link::of(asio::query(ex, asio::execution::context));
  get_port_engine::start(std::move(engine), slot, std::move(done));
}

void start_get_port_engine(const asio::io_context::executor_type& ex,
                           std::shared_ptr<get_port_engine> engine, asio::cancellation_slot slot,
                           one_shot done) {
  engine->impl_->context = &asio::query(ex, asio::execution::context);
  engine->impl_->link = registry_link::of(*engine->impl_->context);
  get_port_engine::start(std::move(engine), slot, std::move(done));
}

}  // namespace portprobe::detail
