// portprobe/detail/async.hpp: what the initiating functions take and are
// constrained on. Every operation has one overload that takes an executor or
// an execution context (an io_context, say) and one completion token,
// constrained with asio::completion_token_for on its completion signature (so
// that `async_x(ex, options)` never reads `options` as a token).
#pragma once

#include <type_traits>

#include <portprobe/detail/asio.hpp>

namespace portprobe::detail {

template <typename T>
concept executor_like = asio::execution::is_executor<T>::value || asio::is_executor<T>::value;

template <typename T>
concept context_like = std::is_convertible_v<T&, asio::execution_context&>;

/// An executor, or an execution context whose executor the operation uses.
template <typename T>
concept executor_or_context =
    executor_like<std::remove_cvref_t<T>> || context_like<std::remove_reference_t<T>>;

template <typename T, bool = executor_like<std::remove_cvref_t<T>>>
struct executor_of_impl {
  using type = std::remove_cvref_t<T>;
};
template <typename T>
struct executor_of_impl<T, false> {
  using type = typename std::remove_cvref_t<T>::executor_type;
};

/// The executor an operation given `T` runs on.
template <typename T>
using executor_of_t = typename executor_of_impl<T>::type;

/// That executor: `t` itself, or `t.get_executor()`.
template <typename T>
executor_of_t<T> executor_of(T& t) {
  if constexpr (executor_like<std::remove_cvref_t<T>>) {
    return t;
  } else {
    return t.get_executor();
  }
}

/// The completion token used when none is given: the executor's default.
template <typename T>
using default_token_t = asio::default_completion_token_t<executor_of_t<T>>;

/// Posts a composed operation (`self`) to its handler's associated executor, never running
/// it inside this call: asio::post(std::move(self)) where that executor can be required
/// never to block. A type-erased handler's executor (asio::any_completion_executor, Asio
/// 1.26 and newer, for an asio::any_completion_handler) has no blocking property to
/// require or prefer, and asio::post rejects it: the operation is posted to its I/O
/// executor `io_ex` instead (never-blocking), and from there Asio dispatches it to the
/// handler's executor. `io_ex` must not live inside `self` (pass a copy).
template <typename Self, typename IoExecutor>
void post_self(Self&& self, const IoExecutor& io_ex) {
  using executor_type = asio::associated_executor_t<std::decay_t<Self>>;
  if constexpr (asio::can_require<executor_type, asio::execution::blocking_t::never_t>::value ||
                !asio::execution::is_executor<executor_type>::value) {
    asio::post(std::forward<Self>(self));
  } else {
    asio::post(io_ex, std::forward<Self>(self));
  }
}

}  // namespace portprobe::detail
