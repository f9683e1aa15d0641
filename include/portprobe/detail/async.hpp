// portprobe/detail/async.hpp: what the initiating functions' overloads are constrained on.
#pragma once

#include <type_traits>

#include <asio/execution/executor.hpp>
#include <asio/execution_context.hpp>
#include <asio/is_executor.hpp>

namespace portprobe {
struct get_port_options;
struct check_options;
struct wait_options;
class port_list;
enum class port_status;
}  // namespace portprobe

namespace portprobe::detail {

template <typename T>
concept executor_like = asio::execution::is_executor<T>::value || asio::is_executor<T>::value;

template <typename T>
concept context_like = std::is_convertible_v<T&, asio::execution_context&>;

/// A completion token is anything but portprobe's argument types: this keeps
/// `async_x(ex, options)` from reading `options` as a token.
template <typename T, typename U = std::remove_cvref_t<T>>
concept token_like =
    !std::is_same_v<U, get_port_options> && !std::is_same_v<U, check_options> &&
    !std::is_same_v<U, wait_options> && !std::is_same_v<U, port_list> &&
    !std::is_same_v<U, port_status> && !std::is_integral_v<U>;

}  // namespace portprobe::detail
