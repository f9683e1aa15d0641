// test/lock_fixture.hpp: an io_fixture that starts with no port locked by this
// process (for the tests of async_get_port and async_listen).
#pragma once

#include <portprobe/get_port.hpp>

#include "support.hpp"

namespace test {

struct lock_fixture : io_fixture {
  lock_fixture() {
    portprobe::clear_locked_ports();  // creates the registry (its thread and timer) too
    fds_before = count_fds();
  }
};

}  // namespace test
