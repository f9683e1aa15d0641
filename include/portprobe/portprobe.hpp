// portprobe/portprobe.hpp: everything.  namespace pp = portprobe;
#pragma once

#include <portprobe/error.hpp>
#include <portprobe/get_port.hpp>
#include <portprobe/listen.hpp>
#include <portprobe/ports.hpp>
