// portprobe/detail/registry.hpp: the process-wide lock registry.
//
// Its state is touched only on its strand, an asio::strand over
// asio::system_executor: entering it from an idle state runs inline on the
// caller's thread (no thread hop), and its expiry timer runs on the system
// context's threads, so that it never keeps a caller's io_context::run() from
// returning. The registry is created on first use and deliberately never
// destroyed, so that operations and timers still pending at exit are harmless.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>

#include <asio/strand.hpp>
#include <asio/system_executor.hpp>

namespace portprobe::detail {

using registry_strand = asio::strand<asio::system_executor>;

/// The registry's strand: what touches the locks runs there.
const registry_strand& registry_executor();

/// Runs `f` on the registry strand and returns once it has run (inline when
/// the strand is idle). Not to be called from the strand itself.
void run_on_registry(const std::function<void()>& f);

/// For tests and diagnostics: whether `port` is locked now, and how many lock
/// entries the registry still stores (expired ones are forgotten by its timer).
bool is_port_locked(std::uint16_t port);
std::size_t stored_lock_count();

}  // namespace portprobe::detail
