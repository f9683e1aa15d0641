#!/usr/bin/env python3
"""benchmarks/cli_collision_worker.py: the portprobe command's side of the
cross-process collision item; the twin of test/lock_worker.cpp (run.py starts
16 at once, in the network namespace it makes).

    cli_collision_worker.py PORTPROBE PICKS FROM TO [SEED]

PICKS times: runs `PORTPROBE get FROM-TO` (FROM 0: `PORTPROBE get`, any port,
and every port counts as in range), as a shell script of a parallel suite
would, waits 0-20 ms (the test's set-up), then listens on the printed port as
a server would ([::], dual-stack, SO_REUSEADDR), keeps it 0-20 ms and closes
it. A bind that fails with EADDRINUSE is a collision: another process was
handed the same port. At the end, `PORTPROBE locks --json` tells the lock
scope. Prints one JSON line, as lock_worker does:
{"picks":N,"in_range":N,"collisions":N,"errors":N,"scope":"user"}.
Bounded: PICKS x (at most 40 ms + 10 s for one `get`).
"""
import errno
import json
import os
import random
import socket
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 5:
        sys.exit("usage: cli_collision_worker.py PORTPROBE PICKS FROM TO [SEED]   (FROM 0: any port)")
    cli = sys.argv[1]
    picks, first, last = (int(x) for x in sys.argv[2:5])
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else os.getpid())
    argv = [cli, "get"] + ([f"{first}-{last}"] if first != 0 else [])
    in_range = collisions = errors = 0
    first_error = ""
    for _ in range(picks):
        port, why = 0, ""
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            why = f"exit {out.returncode}: {out.stderr.strip()[-200:]}"
            port = int(out.stdout) if out.returncode == 0 else 0
        except subprocess.TimeoutExpired:
            why = "timed out"
        except ValueError:
            why = f"printed {out.stdout[:40]!r}"
        if not 0 < port < 65536:
            errors += 1
            first_error = first_error or f"{' '.join(argv)}: {why}"
            continue
        if first == 0 or first <= port <= last:
            in_range += 1
        time.sleep(rng.randint(0, 20) / 1000)  # the test's set-up
        server = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(("::", port))
            server.listen()
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                collisions += 1
            else:
                errors += 1
                first_error = first_error or f"listen on {port}: {e}"
            continue
        else:
            time.sleep(rng.randint(0, 20) / 1000)  # the test runs
        finally:
            server.close()
    scope = "?"
    try:
        out = subprocess.run([cli, "locks", "--json"], capture_output=True, text=True, timeout=10)
        scope = json.loads(out.stdout)["lock_scope"] if out.returncode == 0 else "?"
    except (subprocess.TimeoutExpired, ValueError, KeyError):
        pass
    result = {"picks": picks, "in_range": in_range, "collisions": collisions, "errors": errors,
              "scope": scope}
    if first_error:
        result["first_error"] = first_error
    print(json.dumps(result))


if __name__ == "__main__":
    main()
