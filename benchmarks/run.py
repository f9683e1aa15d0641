#!/usr/bin/env python3
"""benchmarks/run.py: portprobe side by side with get-port, portscanner, nmap and
the raw system-call floor, in one run; prints one table of timings, then one of
cross-process collisions.

Runs inside a network namespace of its own (benchmarks/run starts it through
test/netns/run.sh): every port it probes belongs to that namespace, and it
refuses to run anywhere else. For each timed work item: a warm-up run of every
contender, then REPS rounds, interleaved (A B C A B C ...); each run is one
process that times its own calls; the figure is the median.

The "scan_holes" item puts the portprobe command (`portprobe scan --json`,
timed from outside, process start to exit) beside the library's async_scan on
the same scan of 1024-65535 with 42 black holes spread over it.

The "collisions" item starts 16 processes at once, each taking 50 ports and
binding each 0-20 ms later (test/lock_worker.cpp, its get-port twin
collision_worker.mjs, and cli_collision_worker.py around the portprobe
command), and counts the binds that fail with EADDRINUSE.

portprobe's lease table (shared by every portprobe process of the user) lives
in a temporary directory of this run (PORTPROBE_LOCK_DIR), never in the
machine's /dev/shm, and is removed at the end: each portprobe run gets a
fresh, empty table of its own in it (leases outlive their process, 15 s by
default: one table for all the runs would fill up and slow the later ones).

Usage: run.py --build-dir DIR [--reps N] [--quick] [--no-peers] [--json FILE] [--only ITEM]...
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def layout():
    """The #defines of layout.h, as numbers (or lists)."""
    values = {}
    for m in re.finditer(r"^#define (\w+) (\{[^}]*\}|\d+)", (HERE / "layout.h").read_text(), re.M):
        text = m[2]
        values[m[1]] = [int(x) for x in text.strip("{}").split(",")] if text.startswith("{") else int(text)
    return values


L = layout()


# ---------------------------------------------------------------------------
# Isolation: never probe this machine's own loopback.

def check_namespace():
    outer = os.environ.get("PORTPROBE_OUTER_NETNS", "")
    mine = os.readlink("/proc/self/ns/net")
    if not outer or mine == outer:
        sys.exit("run.py: not in a network namespace of its own: run benchmarks/run")
    # lo, and nothing else up (tunnel devices such as sit0 may exist, down).
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    up = [m[1] for m in re.finditer(r"^\d+: ([^:@]+)[^<]*<([^>]*)>", links, re.M)
          if m[1] != "lo" and "UP" in m[2].split(",")]
    if up:
        sys.exit(f"run.py: interfaces {up} are up in this namespace, not only lo: refusing")
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if Path(table).exists() and len(Path(table).read_text().splitlines()) > 1:
            sys.exit(f"run.py: {table} lists sockets: not a fresh namespace, refusing")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)


# ---------------------------------------------------------------------------
# Contenders: each returns (seconds per call, answer, extra fields).

def run_json(argv, env=None, timeout=600):
    out = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))}: exit {out.returncode}: {out.stderr.strip()[-400:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


class LockDirs:
    """This run's lease tables: one temporary directory (removed by close()),
    and in it a fresh subdirectory, so an empty table, per portprobe run."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="portprobe-bench-locks-"))
        self.count = 0

    def fresh(self, name):
        self.count += 1
        path = self.root / f"{self.count:03}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}"
        path.mkdir(mode=0o700)
        return path

    @staticmethod
    def has_table(path):
        """Whether a portprobe process made its lease table in `path`."""
        return any(p.name.startswith("portprobe-") for p in Path(path).iterdir())

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)


# Items where portprobe_bench calls async_get_port: its lease table must be in use.
GET_PORT_ITEMS = ("random", "random_unlocked", "range")


class Program:
    def __init__(self, name, argv_prefix, env=None, suffix="", lock_dirs=None):
        self.name, self.prefix, self.env, self.suffix = name, argv_prefix, env, suffix
        self.lock_dirs = lock_dirs

    def run(self, item, calls):
        env = self.env
        if self.lock_dirs is not None:  # portprobe: a fresh lease table for each run
            lock_dir = self.lock_dirs.fresh(f"{self.name}-{item}")
            env = dict(os.environ if env is None else env, PORTPROBE_LOCK_DIR=str(lock_dir))
            env.pop("PORTPROBE_LOCKS", None)
        r = run_json(self.prefix + [item + self.suffix, str(calls)], env=env)
        if self.lock_dirs is not None and item in GET_PORT_ITEMS:
            if not LockDirs.has_table(lock_dir):
                raise RuntimeError(f"{self.name} {item}: no lease table made in {lock_dir}: "
                                   "the lease table is not in use")
            r["lease_table"] = True
        return r["seconds"] / r["calls"], r["answer"], r


class Nmap:
    """nmap -sT -n -Pn; the time is nmap's own ("scanned in S seconds")."""
    name = "nmap"

    def __init__(self, ports, extra=()):
        self.ports, self.extra = ports, list(extra)

    def run(self, item, calls):
        argv = ["nmap", "-sT", "-n", "-Pn", "-oG", "-", *self.extra, "-p", self.ports, "127.0.0.1"]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            raise RuntimeError(f"nmap: exit {out.returncode}: {out.stderr.strip()[-400:]}")
        m = re.search(r"scanned in ([\d.]+) seconds", out.stdout)
        if not m:
            raise RuntimeError(f"nmap printed no time: {out.stdout[-400:]}")
        ports = re.search(r"Ports: (.*?)(\t|$)", out.stdout, re.M)
        listed = ports[1].split(", ") if ports else []
        opened = sum("/open/" in p for p in listed)
        filtered = sum("/filtered/" in p for p in listed)
        # Ports nmap does not list are in its "Ignored State" line.
        ignored = re.search(r"Ignored State: (\w+) \((\d+)\)", out.stdout)
        if ignored and ignored[1] == "filtered":
            filtered += int(ignored[2])
        answer = opened if item == "scan" else filtered
        return float(m[1]), answer, {"command": " ".join(argv)}


class ScanAnswer:
    """A scan contender whose answer is "N open, M filtered" (its "filtered" count
    is in the JSON the program prints)."""

    def __init__(self, program):
        self.program, self.name = program, program.name

    def run(self, item, calls):
        seconds, answer, extra = self.program.run(item, calls)
        return seconds, f"{answer} open, {extra['filtered']} filtered", extra


class CliScan:
    """The portprobe command's scan of SCAN_FIRST-SCAN_LAST (--json, on a pipe: no
    progress bar), timed from outside: the whole process, start to exit."""
    name = "portprobe CLI"

    def __init__(self, cli, locks):
        self.cli, self.locks = cli, locks

    def run(self, item, calls):
        argv = [str(self.cli), "scan", f"{L['SCAN_FIRST']}-{L['SCAN_LAST']}", "--json"]
        env = dict(os.environ, PORTPROBE_LOCK_DIR=str(self.locks.fresh(f"cli-{item}")))
        total, reports = 0.0, []
        for _ in range(calls):
            start = time.perf_counter()
            out = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
            total += time.perf_counter() - start
            if out.returncode != 0:
                raise RuntimeError(f"{' '.join(argv)}: exit {out.returncode}: {out.stderr.strip()[-400:]}")
            reports = json.loads(out.stdout)
        count = lambda status: sum(r["status"] == status for r in reports)
        return (total / calls, f"{count('open')} open, {count('filtered')} filtered",
                {"command": " ".join(argv), "ports": len(reports)})


# ---------------------------------------------------------------------------

def fmt_time(seconds):
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


class Fixture:
    """floor_bench fixture MODE: the listeners, until its stdin closes."""

    def __init__(self, floor_exe, mode):
        self.proc = subprocess.Popen([floor_exe, "fixture", mode], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            self.close()
            raise RuntimeError(f"fixture {mode} did not start (printed {line!r})")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def measure(item, contenders, calls, reps, expected, log, per_call=True):
    """Warm-up, then `reps` interleaved rounds. Returns {name: result}; its times
    are per call, or per run (all the calls together) when not `per_call`."""
    results = {c.name: {"times": [], "answers": [], "extra": None} for c in contenders}
    for c in contenders:  # warm-up: caches, page tables, the first run's costs
        c.run(item, max(1, calls.get(c.name, calls["default"]) // 4))
    for round_ in range(reps):  # each round starts one contender later: no fixed position
        shift = round_ % len(contenders)
        for c in contenders[shift:] + contenders[:shift]:
            n = calls.get(c.name, calls["default"])
            seconds, answer, extra = c.run(item, n)
            r = results[c.name]
            r["times"].append(seconds if per_call else seconds * n)
            r["answers"].append(answer)
            r["extra"] = extra
    for name, r in results.items():
        r["median"] = statistics.median(r["times"])
        r["ok"] = all(expected(a) for a in r["answers"])
        log(f"  {item:9} {name:12} median {fmt_time(r['median']):>10}   runs: "
            f"{', '.join(fmt_time(t) for t in r['times'])}   answers: {sorted(set(r['answers']))}"
            + ("" if r["ok"] else "   WRONG ANSWER"))
    return results


def machine():
    model = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores, {model}, Linux {platform.release()}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--quick", action="store_true",
                    help="skip the slowest runs (portscanner and nmap on filtered ports)")
    ap.add_argument("--no-peers", action="store_true",
                    help="portprobe and the floor only (meson test --benchmark)")
    ap.add_argument("--json", help="also write every figure to this file")
    ap.add_argument("--only", action="append", help="run only this item (repeatable)")
    args = ap.parse_args()
    if args.reps < 5:
        sys.exit("run.py: --reps must be at least 5 (the median of at least 5 runs)")

    check_namespace()
    # Every portprobe process this run starts, fixtures and harness workers
    # included, finds its lease table here, never in the machine's /dev/shm.
    locks = LockDirs()
    os.environ["PORTPROBE_LOCK_DIR"] = str(locks.root)
    os.environ.pop("PORTPROBE_LOCKS", None)  # the default: the lease table on
    try:
        return benchmark(args, locks)
    finally:
        locks.close()


def benchmark(args, locks):
    build = Path(args.build_dir).resolve()
    floor_exe = str(build / "benchmarks" / "floor_bench")
    pp = Program("portprobe", [str(build / "benchmarks" / "portprobe_bench")], lock_dirs=locks)
    floor = Program("floor", [floor_exe])
    floor_reuse = Program("floor, socket reused", [floor_exe], suffix="_reuse")
    peers = not args.no_peers
    node = shutil.which("node")
    if peers and (node is None or shutil.which("nmap") is None):
        sys.exit("run.py: node or nmap not found (benchmarks/run installs them)")
    if peers:
        version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
        if int(version.lstrip("v").split(".")[0] or 0) < 16:
            sys.exit(f"run.py: get-port 7 needs Node.js 16 or later, {node} is {version}")
    env = dict(os.environ, **{f"BENCH_{k}": str(v) for k, v in L.items() if isinstance(v, int)})
    get_port = Program("get-port", [str(node), str(HERE / "peers.mjs"), "get-port"], env)
    portscanner = Program("portscanner", [str(node), str(HERE / "peers.mjs"), "portscanner"], env)
    slow = peers and not args.quick

    def log(text):
        print(text, flush=True)

    rows = []
    started = time.time()
    log(f"portprobe benchmarks, {time.strftime('%Y-%m-%d %H:%M %Z')}, {machine()}")
    log(f"each: a warm-up run, then {args.reps} interleaved runs (A B C A B C ...); medians")

    def item(key, work, contenders, calls, expected, target, base, limit, subject="portprobe"):
        if args.only and key not in args.only:
            return
        res = measure(key, contenders, calls, args.reps, expected, log)
        rows.append(dict(key=key, work=work, res=res, target=target, base=base, limit=limit,
                         subject=subject))

    def wanted(*keys):
        return not args.only or any(k in args.only for k in keys)

    with_peers = lambda *c: [x for x in c if x is not None]
    gp = get_port if peers else None
    ps = portscanner if peers else None
    if wanted("random", "random_unlocked", "range", "closed", "open", "in_use", "filtered"):
        with Fixture(floor_exe, "status"):
            item("random", "random port, per call (lease table on)", with_peers(pp, floor, gp),
                 {"default": 2000}, lambda a: 1024 <= a <= 65535, "≤ 1.5× floor", "floor", 1.5)
            item("random_unlocked", "random port, hold 0 (no lock: the operation alone)",
                 [pp, floor], {"default": 2000}, lambda a: 1024 <= a <= 65535, "≤ 1.5× floor",
                 "floor", 1.5)
            busy_end = L["RANGE_FIRST"] + L["RANGE_BUSY"]
            item("range", "preferred range of 1000, first 200 busy, per call",
                 with_peers(pp, floor, gp, ps), {"default": 50, "portscanner": 20},
                 lambda a: a == busy_end, "≤ 1.5× floor", "floor", 1.5)
            item("closed", "status of a closed port, per call", with_peers(pp, floor, ps),
                 {"default": 2000}, lambda a: a == 0, "≤ 1.5× floor", "floor", 1.5)
            item("open", "status of an open port, per call", with_peers(pp, floor, ps),
                 {"default": 1000}, lambda a: a == 1, "≤ 1.5× floor", "floor", 1.5)
            item("in_use", "first in use among 1000, only the last open",
                 with_peers(pp, floor, floor_reuse, ps),
                 {"default": 20, "portscanner": 10}, lambda a: a == L["IN_USE_LAST"],
                 "≤ 1.3× floor", "floor", 1.3)
            first, count = L["FILTERED_FIRST"], L["FILTERED_COUNT"]
            nmap_f = Nmap(f"{first}-{first + count - 1}",
                          ["--max-rtt-timeout", f"{L['FILTERED_TIMEOUT_MS']}ms"])
            # portprobe and portscanner: no port in use (0 / false); the floor: no
            # answer from any of the 100; nmap: all 100 filtered.
            answers = {"portprobe": 0, "portscanner": 0, "floor": 0, "nmap": count}
            item("filtered", f"first in use among {count} filtered, {L['FILTERED_TIMEOUT_MS']} ms timeout",
                 with_peers(pp, floor, ps if slow else None, nmap_f if slow else None),
                 {"default": 1}, lambda a: a in (0, count), "≤ 1.2× floor", "floor", 1.2)
            if rows and rows[-1]["key"] == "filtered":
                for name, r in rows[-1]["res"].items():
                    r["ok"] = r["ok"] and all(a == answers[name] for a in r["answers"])

    if wanted("scan"):
        with Fixture(floor_exe, "scan"):
            nmap_s = Nmap(f"{L['SCAN_FIRST']}-{L['SCAN_LAST']}") if peers else None
            item("scan", f"scan of loopback {L['SCAN_FIRST']}-{L['SCAN_LAST']}",
                 with_peers(pp, floor, floor_reuse, nmap_s), {"default": 1},
                 lambda a: a == len(L["SCAN_OPEN"]), "≤ 0.7× nmap",
                 "nmap" if peers else None, 0.7 if peers else None)

    cli = build / "lib" / "cli" / "portprobe"
    if wanted("scan_holes") and not cli.exists():
        log(f"  scan_holes: {cli} is not built: no row for the portprobe command")
    elif wanted("scan_holes"):
        # The command against the library on the same scan: one sliding window
        # each, so the holes' timeouts overlap instead of draining the window.
        with Fixture(floor_exe, "scan_holes"):
            holes = L["SCAN_HOLES"]
            item("scan_holes", f"scan of loopback {L['SCAN_FIRST']}-{L['SCAN_LAST']}, "
                 f"{holes} filtered ports spread over it",
                 [ScanAnswer(pp), CliScan(cli, locks)], {"default": 1},
                 lambda a: a == f"{len(L['SCAN_OPEN'])} open, {holes} filtered",
                 "CLI ≤ 1.2× library", "portprobe", 1.2, subject="portprobe CLI")

    if wanted("concurrent"):
        with Fixture(floor_exe, "status"):
            n = 10000
            res = measure("concurrent", [pp], {"default": n}, args.reps, lambda a: a == n, log,
                          per_call=False)
            r = res["portprobe"]
            e = r["extra"]
            log(f"  concurrent: {n} checks at once, the last run: "
                f"open {e['open']}, closed {e['closed']}, filtered {e['filtered']}, "
                f"errors {e['errors']}, peak RSS {e['peak_rss_kib'] / 1024:.1f} MiB")
            rows.append(dict(key="concurrent", work=f"{n:,} concurrent check_status, one io_context",
                             res=res, target="completes, RSS reported", base=None, limit=None))

    collision_rows = []
    if wanted("collisions"):
        collision_rows = collisions(build, node if peers else None, locks, log)

    log(f"done in {time.time() - started:.0f} s\n")
    if rows or not collision_rows:
        print_table(rows, log)
    if collision_rows:
        if rows:
            log("")
        print_collisions(collision_rows, log)
    stray = stray_shm_table()
    if stray:
        log(f"WRONG: {stray} was made in the machine's /dev/shm, not in PORTPROBE_LOCK_DIR "
            "(removed)")
        Path(stray).unlink(missing_ok=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "date": time.strftime("%Y-%m-%d"),
                                               "rows": rows, "collisions": collision_rows},
                                              indent=1, default=str))
    failed = [r["key"] for r in rows if not all(x["ok"] for x in r["res"].values())]
    failed += [f"collisions {r['key']}" for r in collision_rows if not r["ok"]]
    failed += ["the lease table's place"] if stray else []
    if failed:
        log(f"WRONG ANSWERS in: {', '.join(failed)}")
        return 1
    return 0


def log_table(head, lines, log):
    """Logs `lines` under `head` as a Markdown table with aligned columns."""
    widths = [max(len(h), *(len(l[i]) for l in lines)) for i, h in enumerate(head)]
    fmt = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"
    log(fmt(head))
    log("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for l in lines:
        log(fmt(l))


def print_table(rows, log):
    """One table: each figure, portprobe/floor, peer/portprobe, the target."""
    if not rows:
        log("nothing measured")
        return
    head = ["work", "portprobe", "portprobe CLI", "floor", "floor, socket reused", "get-port",
            "portscanner", "nmap", "portprobe/floor", "peer/portprobe", "target", "met"]
    lines = []
    for r in rows:
        res = r["res"]
        p = res["portprobe"]["median"]
        cell = lambda name: fmt_time(res[name]["median"]) if name in res else "–"
        ratio_floor = f"{p / res['floor']['median']:.2f}" if "floor" in res else "–"
        peer_ratios = [f"{n} {res[n]['median'] / p:.1f}×"
                       for n in ("portprobe CLI", "get-port", "portscanner", "nmap") if n in res]
        met = "–"
        subject = r.get("subject", "portprobe")
        if r["limit"] is not None and r["base"] in res and subject in res:
            ratio = res[subject]["median"] / res[r["base"]]["median"]
            met = f"yes ({ratio:.2f})" if ratio <= r["limit"] else f"NO ({ratio:.2f})"
        elif r["key"] == "concurrent":
            e = res["portprobe"]["extra"]
            met = f"yes, peak RSS {e['peak_rss_kib'] / 1024:.1f} MiB" if res["portprobe"]["ok"] else "NO"
        if r["key"] == "scan":
            rss = f"peak RSS {res['portprobe']['extra']['peak_rss_kib'] / 1024:.1f} MiB"
            met = rss if met == "–" else f"{met}, {rss}"
        lines.append([r["work"], cell("portprobe"), cell("portprobe CLI"), cell("floor"),
                      cell("floor, socket reused"),
                      cell("get-port"), cell("portscanner"),
                      cell("nmap"), ratio_floor, ", ".join(peer_ratios) or "–", r["target"], met])
    log_table(head, lines, log)


# ---------------------------------------------------------------------------
# Cross-process collisions: 16 processes at once, 50 ports each.

WORKERS = 16
PICKS = 50
HARNESS_TIMEOUT = 120  # seconds for all 16; a worker takes about 2 s


def stray_shm_table():
    """The lease table of this namespace in the machine's /dev/shm, if one was made."""
    path = Path("/dev/shm") / f"portprobe-v1-u{os.geteuid()}-n{os.stat('/proc/self/ns/net').st_ino}"
    return str(path) if path.exists() else None


def harness(argv_of, env):
    """Starts WORKERS processes at once (argv_of(i)), waits for them all (at most
    HARNESS_TIMEOUT s, then kills them), and sums their JSON lines."""
    started = time.monotonic()
    procs = []
    outs = []
    try:
        for i in range(WORKERS):
            procs.append(subprocess.Popen(argv_of(i), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True, env=env, start_new_session=True))
        for p in procs:
            left = HARNESS_TIMEOUT - (time.monotonic() - started)
            out, err = p.communicate(timeout=max(left, 0.1))
            if p.returncode != 0:
                raise RuntimeError(f"{' '.join(p.args)}: exit {p.returncode}: {err.strip()[-300:]}")
            try:
                outs.append(json.loads(out.strip().splitlines()[-1]))
            except (ValueError, IndexError):
                raise RuntimeError(f"{' '.join(p.args)}: printed {out[-200:]!r}, not a JSON line")
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{WORKERS} workers did not finish in {HARNESS_TIMEOUT} s (killed)")
    finally:
        for p in procs:  # each worker is its own process group: ours, by its id
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    total = {k: sum(o[k] for o in outs) for k in ("picks", "in_range", "collisions", "errors")}
    total["scopes"] = sorted({o["scope"] for o in outs})
    total["seconds"] = round(time.monotonic() - started, 3)
    errors = [o["first_error"] for o in outs if o.get("first_error")]
    if errors:
        total["first_error"] = errors[0]
    return total


def collisions(build, node, locks, log):
    """The collision item's rows: {key, work, cells: {contender: result}, ok}."""
    # The tests' program: in test/ when the build has the tests, else built in benchmarks/.
    lock_worker = next((p for p in (build / "test" / "lock_worker", build / "benchmarks" / "lock_worker")
                        if p.exists()), build / "benchmarks" / "lock_worker")
    cli = build / "lib" / "cli" / "portprobe"
    if not lock_worker.exists():
        raise RuntimeError(f"{lock_worker} is not built (ninja -C {build} benchmarks/lock_worker)")
    have_cli = cli.exists()
    if not have_cli:
        log(f"  collisions: {cli} is not built: no row for the portprobe command")

    def lock_worker_argv(first, last):
        return lambda i: [str(lock_worker), str(PICKS), str(first), str(last), str(i + 1)]

    def cli_argv(first, last):
        return lambda i: [sys.executable, str(HERE / "cli_collision_worker.py"), str(cli),
                          str(PICKS), str(first), str(last), str(i + 1)]

    def node_argv(first, last):
        return lambda i: [str(node), str(HERE / "collision_worker.mjs"), str(PICKS), str(first),
                          str(last), str(i + 1)]

    # (column, argv maker, lease table on?, the scope its workers must report)
    table = ("portprobe, lease table", lock_worker_argv, True, "user")
    process = ("portprobe, PORTPROBE_LOCKS=process", lock_worker_argv, False, "process")
    command = ("portprobe CLI, lease table", cli_argv, True, "user")
    get_port = ("get-port", node_argv, None, "process")
    patterns = [
        ("range", "preferred range 30000-30100", 30000, 30100,
         [table, process] + ([command] if have_cli else []) + ([get_port] if node else [])),
        ("one_port", "one preferred port, 3000", 3000, 3000,
         [table, process] + ([get_port] if node else [])),
        ("random", "random (no preference)", 0, 0, [table] + ([get_port] if node else [])),
    ]
    rows = []
    for key, work, first, last, contenders in patterns:
        cells = {}
        for name, argv_of, lease_table, scope in contenders:
            lock_dir = locks.fresh(f"collisions-{key}-{name}")  # every row: a table of its own
            env = dict(os.environ, PORTPROBE_LOCK_DIR=str(lock_dir))
            if lease_table is False:
                env["PORTPROBE_LOCKS"] = "process"
            try:
                r = harness(argv_of(first, last), env)
            except RuntimeError as e:
                r = {"error": str(e)}
            problems = []
            if "error" in r:
                problems.append(r["error"])
            else:
                if r["picks"] != WORKERS * PICKS:
                    problems.append(f"{r['picks']} picks, not {WORKERS * PICKS}")
                if r["errors"]:
                    problems.append(f"{r['errors']} errors ({r.get('first_error', '?')})")
                if r["scopes"] != [scope]:
                    problems.append(f"scope {'/'.join(r['scopes'])}, not {scope}")
                if lease_table is not None:
                    made = LockDirs.has_table(lock_dir)
                    r["lease_table"] = made
                    if made != lease_table:
                        problems.append("no lease table made in PORTPROBE_LOCK_DIR" if lease_table
                                        else "a lease table made with PORTPROBE_LOCKS=process")
                if lease_table and r["collisions"]:
                    problems.append(f"{r['collisions']} collisions with the lease table")
            r["problems"] = problems
            r["ok"] = not problems
            cells[name] = r
            if "error" in r:
                log(f"  collisions {key:8} {name:34} ERROR: {r['error']}")
            else:
                log(f"  collisions {key:8} {name:34} {collision_text(r):>20}   "
                    f"in range {r['in_range']}, errors {r['errors']}, scope {'/'.join(r['scopes'])}, "
                    f"{r['seconds']:.1f} s" + ("" if r["ok"] else f"   WRONG: {'; '.join(problems)}"))
        control = cells.get(process[0])
        if control and control["ok"] and control["collisions"] == 0:
            log(f"  collisions {key}: note: no collision with in-process locks either: "
                "the harness saw none to prevent")
        rows.append(dict(key=key, work=work, cells=cells, ok=all(c["ok"] for c in cells.values())))
    return rows


def collision_text(r):
    if "error" in r:
        return "error"
    rate = 100 * r["collisions"] / r["picks"] if r["picks"] else 0
    return f"{r['collisions']} / {r['picks']} ({rate:.2f} %)"


def print_collisions(rows, log):
    """One table: the collisions of each contender, the target (none with the lease table)."""
    columns = []
    for r in rows:
        columns += [c for c in r["cells"] if c not in columns]
    head = [f"collisions: {WORKERS} processes × {PICKS} ports, bound 0-20 ms later", *columns,
            "target", "met"]
    lines = []
    for r in rows:
        if r["ok"]:
            met = "yes"
        else:
            met = "NO (" + "; ".join(p for c in r["cells"].values() for p in c["problems"]) + ")"
        lines.append([r["work"], *(collision_text(r["cells"][c]) if c in r["cells"] else "–"
                                   for c in columns),
                      "0 with the lease table", met])
    log_table(head, lines, log)


if __name__ == "__main__":
    sys.exit(main())
