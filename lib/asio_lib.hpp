// lib/asio_lib.hpp: the Asio headers the library's sources use beyond those of its public
// headers, from the flavour being built (portprobe/config.hpp).
#pragma once

#include <portprobe/detail/asio.hpp>

#if PORTPROBE_BOOST_ASIO
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#else
#include <asio/bind_executor.hpp>
#include <asio/connect.hpp>
#include <asio/detail/reactor.hpp>
#include <asio/dispatch.hpp>
#include <asio/execution.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/write.hpp>
#endif
