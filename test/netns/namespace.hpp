#pragma once
// A network namespace made for one test program by test/netns/run.sh: how the
// program knows it is in one (fails closed), and how it brings its lo up.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

namespace test {

// Fails closed: anything it cannot read counts as "not isolated".
inline std::string read_text(const char* path) {
  std::ifstream in(path);
  if (!in) return {};
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Interface `name`'s flags in this network namespace (SIOCGIFFLAGS), through
// `fd`, any socket of it; false when they cannot be read.
inline bool interface_flags(int fd, const std::string& name, ifreq& req) {
  if (name.size() >= IFNAMSIZ) return false;
  req = ifreq{};
  std::memcpy(req.ifr_name, name.c_str(), name.size());
  return ::ioctl(fd, SIOCGIFFLAGS, &req) == 0;
}

// Whether interface `name` is up; true when unknown (fails closed).
inline bool interface_up(const std::string& name) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return true;
  ifreq req{};
  const bool up = !interface_flags(fd, name, req) || (req.ifr_flags & IFF_UP) != 0;
  ::close(fd);
  return up;
}

// The program is in a fresh network namespace: not the one its runner started
// in (PORTPROBE_OUTER_NETNS), with no interface up but lo and no TCP socket yet.
inline bool fresh_namespace() {
  const char* outer = std::getenv("PORTPROBE_OUTER_NETNS");
  std::error_code ec;
  const std::string mine = std::filesystem::read_symlink("/proc/self/ns/net", ec).string();
  if (outer == nullptr || *outer == '\0' || ec || mine.empty() || mine == outer) return false;
  // lo, and nothing else that is up (a new namespace may get tunnel devices
  // such as sit0 or tunl0 when their modules are loaded: down, no address).
  const std::string dev = read_text("/proc/net/dev");
  bool lo = false;
  std::istringstream lines(dev);
  std::string line;
  for (int n = 0; std::getline(lines, line); ++n) {
    if (n < 2) continue;  // headers
    const std::size_t start = line.find_first_not_of(' ');
    const std::size_t colon = line.find(':');
    if (start == std::string::npos || colon == std::string::npos || colon <= start) return false;
    const std::string name = line.substr(start, colon - start);
    if (name == "lo") {
      lo = true;
    } else if (interface_up(name)) {
      return false;
    }
  }
  if (!lo) return false;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    const std::string text = read_text(table);
    if (std::count(text.begin(), text.end(), '\n') > 1) return false;  // a socket exists
  }
  return true;
}

// The program is in a mount namespace of its own (not its runner's:
// PORTPROBE_OUTER_MNTNS), so that what it mounts stays there. Fails closed.
inline bool private_mount_namespace() {
  const char* outer = std::getenv("PORTPROBE_OUTER_MNTNS");
  std::error_code ec;
  const std::string mine = std::filesystem::read_symlink("/proc/self/ns/mnt", ec).string();
  return outer != nullptr && *outer != '\0' && !ec && !mine.empty() && mine != outer;
}

// Brings lo up; false when it cannot.
inline bool bring_loopback_up() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ifreq req{};
  bool up = interface_flags(fd, "lo", req);
  if (up) {
    req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
    up = ::ioctl(fd, SIOCSIFFLAGS, &req) == 0;
  }
  ::close(fd);
  return up;
}

// Once per process: whether it runs in a fresh network namespace of its own,
// its lo brought up. The first call must come before the program's first
// socket (test/main.cpp makes it before any test, when run by
// test/netns/run.sh); later calls return the first answer.
inline bool isolated_network() {
  static const bool once = fresh_namespace() && bring_loopback_up();
  return once;
}

}  // namespace test
