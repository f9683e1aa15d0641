// benchmarks/get_port_bench.cpp: a random port per call, portprobe against the
// raw syscall floor, measured interleaved in one run; prints the ratio.
//
// floor:     socket(AF_INET6) + IPV6_V6ONLY=0 + bind([::]:0) + listen + close
// portprobe: async_get_port(io, handler) + io.run(), locks cleared in between
//            so the registry stays at its usual size.
#include <portprobe/portprobe.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace pp = portprobe;
using clock_type = std::chrono::steady_clock;

namespace {

double floor_once(int calls) {
  const auto start = clock_type::now();
  for (int i = 0; i < calls; ++i) {
    const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int off = 0;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_any;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd, 1);
    ::close(fd);
  }
  return std::chrono::duration<double, std::micro>(clock_type::now() - start).count() / calls;
}

double portprobe_once(asio::io_context& io, int calls) {
  pp::get_port_options options;
  options.hold = std::chrono::milliseconds(0);  // no lock: each call stands alone
  const auto start = clock_type::now();
  for (int i = 0; i < calls; ++i) {
    pp::async_get_port(io, options, [](std::error_code, std::uint16_t) {});
    io.restart();
    io.run();
  }
  return std::chrono::duration<double, std::micro>(clock_type::now() - start).count() / calls;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main() {
  constexpr int calls = 2000;
  constexpr int repetitions = 7;
  asio::io_context io;
  floor_once(calls / 4);  // warm-up
  portprobe_once(io, calls / 4);
  std::vector<double> f;
  std::vector<double> p;
  for (int r = 0; r < repetitions; ++r) {  // interleaved: A B A B ...
    f.push_back(floor_once(calls));
    p.push_back(portprobe_once(io, calls));
  }
  const double fm = median(f);
  const double pm = median(p);
  std::printf("random port, per call (median of %d x %d calls)\n", repetitions, calls);
  std::printf("  floor ([::] bind+listen+close): %8.2f us\n", fm);
  std::printf("  portprobe async_get_port:       %8.2f us\n", pm);
  std::printf("  portprobe / floor:              %8.2f\n", pm / fm);
  return 0;
}
