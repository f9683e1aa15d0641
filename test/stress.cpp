// test/stress: every operation at once, from many threads on several
// io_contexts, a third of them cancelled at a random moment; bounded in time
// and count, and stops by itself.
//
//   stress [--seconds S] [--threads N] [--contexts M] [--in-flight K] [--max-ops T]
//
// Defaults: 60 s, 4 threads, 2 io_contexts, 32 operations in flight per
// thread, at most 2,000,000 operations. Thread i starts operations on context
// i % M, each on a strand of it (where its cancellation is emitted too, as
// Asio asks); every context is run by the threads that start on it. Only
// ports this process opened are probed: listeners (open), bound sockets that
// do not listen (closed), a listener with a full accept queue (filtered).
//
// Counts and checks: every handler called exactly once; no port handed out
// twice while its lock holds (two operations whose sure windows of holding
// the port, from completion to start + hold, overlap); no descriptor left once the contexts are
// gone; no lease left once the holds are over; RSS growth between a quarter of
// the run and its end. Prints one line of JSON, then "stress: ok" or the
// failures; exit 0 when every check held, 1 otherwise, 2 for bad usage.
#include <portprobe/portprobe.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "asio.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace pp = portprobe;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using tcp = asio::ip::tcp;

namespace {

std::size_t count_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string key;
  long value = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> value;
      return value;
    }
    in.ignore(1 << 12, '\n');
  }
  return -1;
}

/// A socket of 127.0.0.1 on a port the OS chose: listening (`backlog` >= 0)
/// or only bound (a connection to it is refused).
struct raw_socket {
  int fd = -1;
  std::uint16_t port = 0;
  explicit raw_socket(int backlog) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        (backlog >= 0 && ::listen(fd, backlog) != 0) ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      std::perror("stress: socket");
      std::exit(2);
    }
    port = ntohs(a.sin_port);
  }
  raw_socket(const raw_socket&) = delete;
  raw_socket& operator=(const raw_socket&) = delete;
  ~raw_socket() { ::close(fd); }
};

/// A listener whose accept queue is full: SYNs to it get no answer.
struct black_hole {
  raw_socket listener{0};
  std::vector<int> fillers;
  black_hole() {
    for (int i = 0; i < 8; ++i) {
      const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(listener.port);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      (void)::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
      pollfd p{c, POLLOUT, 0};
      if (::poll(&p, 1, 300) == 0) {  // no answer: the queue is full
        ::close(c);
        return;
      }
      fillers.push_back(c);
    }
    std::fprintf(stderr, "stress: the accept queue never filled up\n");
    std::exit(2);
  }
  ~black_hole() {
    for (int fd : fillers) ::close(fd);
  }
};

struct config {
  double seconds = 60;
  int threads = 4;
  int contexts = 2;
  int in_flight = 32;
  long max_ops = 2'000'000;
};

enum op_kind { op_get_port, op_get_ports, op_listen, op_check, op_find, op_scan, op_wait, kinds };
const char* const kind_names[kinds] = {"get_port", "get_ports", "listen", "check",
                                       "find",     "scan",      "wait"};

struct shared_state {
  std::vector<std::atomic<int>> calls;  // per operation: handler calls
  std::atomic<long> started{0};
  std::atomic<long> completed{0};
  std::atomic<long> cancelled_sent{0};
  std::atomic<long> aborted{0};  // completions with operation_aborted
  std::atomic<long> errors{0};   // other errors
  std::array<std::atomic<long>, kinds> per_kind{};
  std::mutex ports_mutex;
  // Per port, the windows in which an operation surely held its lock: from
  // its completion (its lock was confirmed before) to its start + hold (its
  // lock lasts at least that long from the confirmation). Two operations
  // whose sure windows overlap held the port at the same time.
  struct window {
    clock_type::time_point from, to;
    int kind;
  };
  std::map<std::uint16_t, std::vector<window>> ports;
  std::atomic<long> duplicates{0};
  std::atomic<long> ports_handed{0};
  explicit shared_state(long n) : calls(static_cast<std::size_t>(n)) {}

  void handed_out(std::uint16_t port, clock_type::time_point start, clock_type::duration hold,
                  int kind) {
    const auto now = clock_type::now();
    ++ports_handed;
    const window w{now, start + hold, kind};
    if (w.from >= w.to) return;  // its handler ran after its hold may have ended: nothing sure
    const std::lock_guard<std::mutex> lock(ports_mutex);
    std::vector<window>& seen = ports[port];
    for (const window& o : seen) {
      if (o.from < w.to && w.from < o.to) {
        ++duplicates;
        const auto ms = [&](clock_type::time_point t) {
          return std::chrono::duration<double, std::milli>(t - o.from).count();
        };
        std::fprintf(stderr, "stress: port %u held twice: %s surely from 0 to %.3f ms, %s from %.3f to %.3f ms\n",
                     port, kind_names[o.kind], ms(o.to), kind_names[kind], ms(w.from), ms(w.to));
      }
    }
    std::erase_if(seen, [&](const window& o) { return o.to < now; });  // past: nothing to overlap
    seen.push_back(w);
  }
};

}  // namespace

int main(int argc, char** argv) {
  // A lease table of its own (never the machine's /dev/shm one, nor a test
  // program's): its count of leases left is of its own leases only.
  char lock_dir[] = "/tmp/portprobe-stress-XXXXXX";
  if (::mkdtemp(lock_dir) == nullptr) {
    std::perror("stress: mkdtemp");
    return 2;
  }
  ::setenv("PORTPROBE_LOCK_DIR", lock_dir, 1);
  struct remove_dir {
    const char* dir;
    ~remove_dir() { std::filesystem::remove_all(dir); }
  } cleanup{lock_dir};
  config cfg;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "stress: %s needs a value\n", a.c_str());
      return 2;
    }
    const double v = std::atof(argv[++i]);
    if (a == "--seconds" && v > 0 && v <= 3600) {
      cfg.seconds = v;
    } else if (a == "--threads" && v >= 1 && v <= 64) {
      cfg.threads = static_cast<int>(v);
    } else if (a == "--contexts" && v >= 1 && v <= 64) {
      cfg.contexts = static_cast<int>(v);
    } else if (a == "--in-flight" && v >= 1 && v <= 1024) {
      cfg.in_flight = static_cast<int>(v);
    } else if (a == "--max-ops" && v >= 1 && v <= 1e8) {
      cfg.max_ops = static_cast<long>(v);
    } else {
      std::fprintf(stderr, "stress: bad option %s %s\n", a.c_str(), argv[i]);
      return 2;
    }
  }

  // What is probed: this process's own sockets only.
  std::vector<std::unique_ptr<raw_socket>> open_ports, closed_ports;
  for (int i = 0; i < 4; ++i) open_ports.push_back(std::make_unique<raw_socket>(1024));
  for (int i = 0; i < 4; ++i) closed_ports.push_back(std::make_unique<raw_socket>(-1));
  black_hole hole;
  std::vector<std::uint16_t> probe_ports;
  for (auto& s : open_ports) probe_ports.push_back(s->port);
  for (auto& s : closed_ports) probe_ports.push_back(s->port);
  probe_ports.push_back(hole.listener.port);
  std::atomic<bool> serving{true};
  std::thread acceptor([&] {  // accepts and closes, so the open ports' queues never fill
    std::vector<pollfd> fds;
    for (auto& s : open_ports) fds.push_back({s->fd, POLLIN, 0});
    while (serving) {
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      for (auto& p : fds) {
        if ((p.revents & POLLIN) == 0) continue;
        const int c = ::accept4(p.fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (c >= 0) ::close(c);
      }
    }
  });

  {  // the process's registry (its thread, its timer's descriptors) exists before the count
    asio::io_context warm;
    pp::get_port_options o;
    o.hold = 0ms;
    pp::async_get_port(warm, o, [](pp::error_code, std::uint16_t) {});
    warm.run_for(20s);
  }
  const std::size_t fds_before = count_fds();
  shared_state st(cfg.max_ops);
  long rss_quarter = -1;
  const auto begin = clock_type::now();
  const auto deadline = begin + std::chrono::duration_cast<clock_type::duration>(
                                    std::chrono::duration<double>(cfg.seconds));
  std::atomic<bool> stop_starting{false};
  {
    // Each thread's state outlives the contexts (declared first, destroyed
    // last): a handler of thread i may run on another thread of its context.
    struct thread_state {
      std::function<void()> start_one;
      std::atomic<int> mine{0};  // this thread's operations in flight
    };
    std::vector<std::unique_ptr<thread_state>> states;
    for (int i = 0; i < cfg.threads; ++i) states.push_back(std::make_unique<thread_state>());
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    for (int i = 0; i < cfg.contexts; ++i) contexts.push_back(std::make_unique<asio::io_context>());

    // Each thread: keeps `in_flight` operations going on its context until the
    // deadline, then runs its context until nothing is left.
    auto worker = [&](int index) {
      asio::io_context& io = *contexts[static_cast<std::size_t>(index % cfg.contexts)];
      thread_state& ts = *states[static_cast<std::size_t>(index)];
      // Random numbers for start_one, which any thread of the context may run.
      auto rng = std::make_shared<std::minstd_rand>(static_cast<unsigned>(index * 7919 + 17));
      auto rng_mutex = std::make_shared<std::mutex>();
      auto pick = [rng, rng_mutex](int n) {
        const std::lock_guard<std::mutex> lock(*rng_mutex);
        return static_cast<int>((*rng)() % static_cast<unsigned>(n));
      };
      auto work = asio::make_work_guard(io);
      std::atomic<int>& mine = ts.mine;

      ts.start_one = [&st, &cfg, &io, &ts, &mine, pick, deadline, &stop_starting, &probe_ports] {
        if (stop_starting || clock_type::now() >= deadline) return;
        const long id = st.started.fetch_add(1);
        if (id >= cfg.max_ops) {
          stop_starting = true;
          return;
        }
        ++mine;
        auto strand = asio::make_strand(io);
        auto signal = std::make_shared<asio::cancellation_signal>();
        const op_kind kind = static_cast<op_kind>(pick(kinds));
        ++st.per_kind[kind];
        const auto started_at = clock_type::now();
        const auto hold = std::chrono::milliseconds(pick(200));
        // Called once per operation; then the next one starts (on this thread's context).
        auto finish = [&st, &mine, &io, &ts, id, signal](pp::error_code ec) {
          st.calls[static_cast<std::size_t>(id)].fetch_add(1);
          ++st.completed;
          if (ec == asio::error::operation_aborted) {
            ++st.aborted;
          } else if (ec) {
            ++st.errors;
          }
          --mine;
          asio::post(io, [&ts] { ts.start_one(); });
        };
        auto slot = signal->slot();
        const std::uint16_t port = probe_ports[static_cast<std::size_t>(pick(static_cast<int>(probe_ports.size())))];
        pp::check_options co;
        co.timeout = std::chrono::milliseconds(20 + pick(200));
        pp::get_port_options go;
        go.hold = hold;
        if (pick(2) == 0) go.port = pp::port_numbers(40000, 40100);
        switch (kind) {
          case op_get_port:
            pp::async_get_port(strand, go, asio::bind_cancellation_slot(slot, [&st, finish, started_at, hold](pp::error_code ec, std::uint16_t p) {
              if (!ec && hold > 0ms) st.handed_out(p, started_at, hold, op_get_port);
              finish(ec);
            }));
            break;
          case op_get_ports:
            pp::async_get_ports(strand, 2, go, asio::bind_cancellation_slot(slot, [&st, finish, started_at, hold](pp::error_code ec, std::vector<std::uint16_t> ps) {
              if (!ec && hold > 0ms) {
                for (auto p : ps) st.handed_out(p, started_at, hold, op_get_ports);
              }
              finish(ec);
            }));
            break;
          case op_listen:
            pp::async_listen(strand, go, asio::bind_cancellation_slot(slot, [&st, finish, started_at, hold](pp::error_code ec, tcp::acceptor a) {
              if (!ec && hold > 0ms) st.handed_out(a.local_endpoint().port(), started_at, hold, op_listen);
              finish(ec);
            }));
            break;
          case op_check:
            pp::async_check_status(strand, port, co, asio::bind_cancellation_slot(slot, [finish](pp::error_code ec, pp::port_status) { finish(ec); }));
            break;
          case op_find:
            pp::async_find_port_in_use(strand, pp::port_list(probe_ports), co,
                                       asio::bind_cancellation_slot(slot, [finish](pp::error_code ec, std::optional<std::uint16_t>) { finish(ec); }));
            break;
          case op_scan:
            pp::async_scan(strand, pp::port_list(probe_ports), co,
                           asio::bind_cancellation_slot(slot, [finish](pp::error_code ec, std::vector<pp::port_report>) { finish(ec); }));
            break;
          case op_wait: {
            pp::wait_options wo;
            wo.timeout = std::chrono::milliseconds(50 + pick(200));
            wo.interval = 10ms;
            pp::async_wait_for_status(strand, port, pp::port_status::open, wo,
                                      asio::bind_cancellation_slot(slot, [finish](pp::error_code ec) { finish(ec); }));
            break;
          }
          default:
            break;
        }
        if (pick(3) == 0) {  // cancelled at a random moment, on the operation's strand
          auto timer = std::make_shared<asio::steady_timer>(strand, std::chrono::milliseconds(pick(20)));
          ++st.cancelled_sent;
          timer->async_wait([timer, signal](pp::error_code) {
            signal->emit(asio::cancellation_type::terminal);
          });
        }
      };
      asio::post(io, [&ts, &cfg] {
        for (int i = 0; i < cfg.in_flight; ++i) ts.start_one();
      });
      // Runs until the deadline has passed and this thread's operations are
      // done; bounded: 60 s past the deadline at most.
      while (clock_type::now() < deadline + 60s) {
        io.run_for(100ms);
        if (clock_type::now() >= deadline && mine == 0) break;
      }
      work.reset();
    };

    std::vector<std::thread> threads;
    for (int i = 0; i < cfg.threads; ++i) threads.emplace_back([&, i] { worker(i); });
    while (clock_type::now() < begin + (deadline - begin) / 4) std::this_thread::sleep_for(50ms);
    rss_quarter = rss_kib();
    for (auto& t : threads) t.join();
    for (auto& c : contexts) c->run_for(5s);  // what the threads left to run, if anything
  }  // the contexts are destroyed here
  const long rss_end = rss_kib();
  serving = false;
  acceptor.join();
  const double ran = std::chrono::duration<double>(clock_type::now() - begin).count();

  // Checks.
  std::vector<std::string> failures;
  const long started = std::min(st.started.load(), cfg.max_ops);
  long not_once = 0;
  for (long i = 0; i < started; ++i) not_once += st.calls[static_cast<std::size_t>(i)].load() != 1;
  if (not_once != 0) failures.push_back(std::to_string(not_once) + " operations whose handler was not called exactly once");
  if (st.duplicates != 0) failures.push_back(std::to_string(st.duplicates.load()) + " ports handed out while locked");
  const std::size_t fds_after = count_fds();
  if (fds_after != fds_before) {
    failures.push_back("descriptors: " + std::to_string(fds_before) + " before, " + std::to_string(fds_after) + " after");
  }
  // Every hold was under 200 ms: the leases are gone within a few seconds (bounded).
  std::size_t leases = 0;
  for (int i = 0; i < 100; ++i) {
    pp::error_code ec;
    leases = pp::active_leases(ec).size();
    if (leases == 0) break;
    std::this_thread::sleep_for(50ms);  // waiting out holds, not synchronising
  }
  if (leases != 0) failures.push_back(std::to_string(leases) + " leases left after every hold ended");
  const long growth = rss_end - rss_quarter;
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // (Not under a sanitizer: ASan's quarantine and TSan's shadow grow by design.)
  if (growth > 64 * 1024) failures.push_back("RSS grew by " + std::to_string(growth) + " KiB");
#endif

  std::printf("{\"seconds\": %.1f, \"threads\": %d, \"contexts\": %d, \"started\": %ld, \"completed\": %ld, "
              "\"per_second\": %.0f, \"cancel_sent\": %ld, \"aborted\": %ld, \"errors\": %ld, "
              "\"ports_handed\": %ld, \"duplicates\": %ld, \"not_once\": %ld, \"fds_left\": %ld, "
              "\"leases_left\": %zu, \"rss_quarter_kib\": %ld, \"rss_end_kib\": %ld",
              ran, cfg.threads, cfg.contexts, started, st.completed.load(), st.completed.load() / ran,
              st.cancelled_sent.load(), st.aborted.load(), st.errors.load(), st.ports_handed.load(),
              st.duplicates.load(), not_once, static_cast<long>(fds_after) - static_cast<long>(fds_before),
              leases, rss_quarter, rss_end);
  for (int k = 0; k < kinds; ++k) std::printf(", \"%s\": %ld", kind_names[k], st.per_kind[k].load());
  std::printf("}\n");
  if (failures.empty()) {
    std::printf("stress: ok\n");
    return 0;
  }
  for (const auto& f : failures) std::printf("stress: FAIL: %s\n", f.c_str());
  return 1;
}
