// portprobe/portprobe.hpp: everything.  namespace pp = portprobe;
#pragma once

#include <portprobe/error.hpp>
#include <portprobe/find.hpp>
#include <portprobe/get_port.hpp>
#include <portprobe/listen.hpp>
#include <portprobe/locks.hpp>
#include <portprobe/owners.hpp>
#include <portprobe/ports.hpp>
#include <portprobe/scan.hpp>
#include <portprobe/status.hpp>
#include <portprobe/wait.hpp>
