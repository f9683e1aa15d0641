/* benchmarks/floor_bench.c: the raw system calls of each work item, on one core,
 * blocking where that is cheapest, with nothing else; and the fixture that
 * holds the listeners every contender probes.
 *
 *   floor_bench ITEM CALLS     prints {"item": ..., "seconds": S, "calls": N, "answer": A}
 *                              (in_use_reuse and scan_reuse: a refused socket
 *                              connected again, not a new one per port)
 *   floor_bench fixture MODE   opens MODE's listeners, prints "ready", serves
 *                              until its standard input closes
 *
 * It runs inside the network namespace that benchmarks/run.py makes: the ports
 * below are that namespace's, never this machine's.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "layout.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

static void die(const char* what) {
  perror(what);
  exit(1);
}

/* ---- work items ---------------------------------------------------------- */

/* [::] (dual-stack) socket + bind + listen + close: 0 if the port was free.
 * With `chosen`, one getsockname more, for the port the OS chose (port 0). */
static int bind_probe(int port, int* chosen) {
  int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int off = 0;
  setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  struct sockaddr_in6 a;
  memset(&a, 0, sizeof a);
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_any;
  a.sin6_port = htons((unsigned short)port);
  int rc = bind(fd, (struct sockaddr*)&a, sizeof a);
  if (rc == 0) rc = listen(fd, 1);
  if (rc == 0 && chosen != NULL) {
    socklen_t size = sizeof a;
    rc = getsockname(fd, (struct sockaddr*)&a, &size);
    *chosen = ntohs(a.sin6_port);
  }
  close(fd);
  return rc;
}

/* socket + blocking connect + close on 127.0.0.1: 1 open, 0 closed. With
 * `spare`, a refused socket is not closed but kept in *spare, and the next call
 * connects it again (Linux): a closed port is then one system call. */
static int connect_probe(int port, int* spare) {
  int fd = spare != NULL && *spare >= 0 ? *spare : socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (spare != NULL) *spare = -1;
  if (fd < 0) die("socket");
  struct sockaddr_in a = loopback(port);
  int open = connect(fd, (struct sockaddr*)&a, sizeof a) == 0;
  if (!open && spare != NULL) {
    *spare = fd;
    return 0;
  }
  if (open) {
    /* No TIME_WAIT left behind, as every contender does. */
    struct linger reset = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    /* A socket that met itself (nothing listens on a port of the ephemeral
     * range, and the kernel chose that port as the local one): not open. */
    struct sockaddr_in local;
    socklen_t size = sizeof local;
    if (getsockname(fd, (struct sockaddr*)&local, &size) == 0 && local.sin_port == a.sin_port) open = 0;
  }
  close(fd);
  return open;
}

/* 100 non-blocking connects at once, then wait for answers until the timeout. */
static int filtered_probe(void) {
  int fds[FILTERED_COUNT];
  struct pollfd p[FILTERED_COUNT];
  for (int i = 0; i < FILTERED_COUNT; ++i) {
    fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fds[i] < 0) die("socket");
    struct sockaddr_in a = loopback(FILTERED_FIRST + i);
    connect(fds[i], (struct sockaddr*)&a, sizeof a);
    p[i].fd = fds[i];
    p[i].events = POLLOUT;
    p[i].revents = 0;
  }
  const double deadline = now() + FILTERED_TIMEOUT_MS / 1000.0;
  int answered = 0;
  for (double left; answered < FILTERED_COUNT && (left = deadline - now()) > 0;) {
    int n = poll(p, FILTERED_COUNT, (int)(left * 1000) + 1);
    if (n < 0 && errno != EINTR) die("poll");
    for (int i = 0; n > 0 && i < FILTERED_COUNT; ++i) {
      if (p[i].revents) {
        p[i].fd = -1; /* answered: no longer polled */
        ++answered;
      }
    }
  }
  for (int i = 0; i < FILTERED_COUNT; ++i) close(fds[i]);
  return answered;
}

/* The first port of [first, last] that connect_probe finds open, or last + 1. */
static int first_open(int first, int last, int* spare) {
  int port = first;
  while (port <= last && !connect_probe(port, spare)) ++port;
  return port;
}

static long count_open(int first, int last, int* spare) {
  long open = 0;
  for (int port = first; port <= last; ++port) open += connect_probe(port, spare);
  return open;
}

static int run_item(const char* item, long calls, long* answer) {
  /* The _reuse items: a refused socket connected again, not a new one a port. */
  int spare = -1;
  int* reuse = strstr(item, "_reuse") != NULL ? &spare : NULL;
  if (strcmp(item, "random") == 0 || strcmp(item, "random_unlocked") == 0) { /* locks nothing */
    int port = -1;
    for (long i = 1; i < calls; ++i) bind_probe(0, NULL);
    bind_probe(0, &port); /* only the last call asks which port it got */
    *answer = port;
  } else if (strcmp(item, "range") == 0) {
    for (long i = 0; i < calls; ++i) {
      int port = RANGE_FIRST;
      while (port <= RANGE_LAST && bind_probe(port, NULL) != 0) ++port;
      *answer = port;
    }
  } else if (strcmp(item, "closed") == 0) {
    for (long i = 0; i < calls; ++i) *answer = connect_probe(CLOSED_PORT, NULL);
  } else if (strcmp(item, "open") == 0) {
    for (long i = 0; i < calls; ++i) *answer = connect_probe(OPEN_PORT, NULL);
  } else if (strcmp(item, "in_use") == 0 || strcmp(item, "in_use_reuse") == 0) {
    for (long i = 0; i < calls; ++i) *answer = first_open(IN_USE_FIRST, IN_USE_LAST, reuse);
  } else if (strcmp(item, "filtered") == 0) {
    for (long i = 0; i < calls; ++i) *answer = filtered_probe();
  } else if (strcmp(item, "scan") == 0 || strcmp(item, "scan_reuse") == 0) {
    for (long i = 0; i < calls; ++i) *answer = count_open(SCAN_FIRST, SCAN_LAST, reuse);
  } else {
    return 0;
  }
  if (spare >= 0) close(spare);
  return 1;
}

/* ---- fixture ------------------------------------------------------------- */

static int listener(int port, int backlog) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) die("socket");
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  struct sockaddr_in a = loopback(port);
  if (bind(fd, (struct sockaddr*)&a, sizeof a) != 0) die("bind");
  if (listen(fd, backlog) != 0) die("listen");
  return fd;
}

/* A listener with backlog 0 whose queue holds one connection nobody accepts:
 * later SYNs are dropped, so a connect gets no answer ("filtered"). */
static void fill_queue(int port, int* fds, int* n) {
  for (int i = 0; i < 8; ++i) {
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = loopback(port);
    connect(c, (struct sockaddr*)&a, sizeof a);
    struct pollfd p = {c, POLLOUT, 0};
    if (poll(&p, 1, 300) == 0) { /* no answer: the queue is full */
      close(c);
      return;
    }
    fds[(*n)++] = c; /* held: it fills the queue */
  }
  fprintf(stderr, "the accept queue of %d never filled up\n", port);
  exit(1);
}

static void black_hole(int port, int* fds, int* n) {
  fds[(*n)++] = listener(port, 0);
  fill_queue(port, fds, n);
}

static int fixture(const char* mode) {
  static int servers[1024];
  static int held[1024];
  int ns = 0, nh = 0;
  if (strcmp(mode, "status") == 0) {
    for (int p = RANGE_FIRST; p < RANGE_FIRST + RANGE_BUSY; ++p) servers[ns++] = listener(p, 128);
    servers[ns++] = listener(OPEN_PORT, 1024);
    servers[ns++] = listener(IN_USE_LAST, 128);
    for (int i = 0; i < FILTERED_COUNT; ++i) black_hole(FILTERED_FIRST + i, held, &nh);
  } else if (strcmp(mode, "scan") == 0) {
    static const int open[] = SCAN_OPEN;
    for (size_t i = 0; i < sizeof open / sizeof open[0]; ++i) servers[ns++] = listener(open[i], 1024);
  } else if (strcmp(mode, "scan_holes") == 0) {
    static const int open[] = SCAN_OPEN;
    for (size_t i = 0; i < sizeof open / sizeof open[0]; ++i) servers[ns++] = listener(open[i], 1024);
    /* Every hole's listener first, then their queues: a queue-filling socket's
     * ephemeral port could otherwise be a later hole's port. */
    for (int i = 0; i < SCAN_HOLES; ++i) held[nh++] = listener(SCAN_HOLE_FIRST + i * SCAN_HOLE_STRIDE, 0);
    for (int i = 0; i < SCAN_HOLES; ++i) fill_queue(SCAN_HOLE_FIRST + i * SCAN_HOLE_STRIDE, held, &nh);
  } else {
    fprintf(stderr, "fixture: unknown mode %s\n", mode);
    return 2;
  }
  printf("ready\n");
  fflush(stdout);
  /* Accept and close at once, until standard input closes. */
  static struct pollfd p[1025];
  for (int i = 0; i < ns; ++i) p[i] = (struct pollfd){servers[i], POLLIN, 0};
  p[ns] = (struct pollfd){0, POLLIN, 0};
  for (;;) {
    if (poll(p, (nfds_t)ns + 1, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (p[ns].revents) {
      char buf[64];
      if (read(0, buf, sizeof buf) <= 0) break;
    }
    for (int i = 0; i < ns; ++i) {
      if (!(p[i].revents & POLLIN)) continue;
      for (int k = 0; k < 64; ++k) {
        int c = accept4(servers[i], NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) break;
        close(c);
      }
    }
  }
  for (int i = 0; i < ns; ++i) close(servers[i]);
  for (int i = 0; i < nh; ++i) close(held[i]);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "fixture") == 0) return fixture(argv[2]);
  if (argc != 3) {
    fprintf(stderr, "usage: floor_bench ITEM CALLS | floor_bench fixture status|scan|scan_holes\n");
    return 2;
  }
  long calls = atol(argv[2]);
  long answer = -1;
  double start = now();
  if (!run_item(argv[1], calls, &answer)) {
    fprintf(stderr, "floor_bench: unknown item %s\n", argv[1]);
    return 2;
  }
  double seconds = now() - start;
  printf("{\"item\": \"%s\", \"seconds\": %.9f, \"calls\": %ld, \"answer\": %ld}\n", argv[1],
         seconds, calls, answer);
  return 0;
}
