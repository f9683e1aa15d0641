/* benchmarks/layout.h: the ports of the benchmark's private network namespace,
 * shared by the floor, the fixture and portprobe_bench (run.py reads it too).
 * Fixed ports are fine there: the namespace holds nothing but what the
 * benchmark opens. */
#pragma once

#define RANGE_FIRST 20000 /* preferred range of 1000: 20000-20999 */
#define RANGE_LAST 20999
#define RANGE_BUSY 200    /* 20000-20199 listen: the answer is 20200 */
#define OPEN_PORT 21000   /* listens and accepts */
#define CLOSED_PORT 21001 /* nothing listens */
#define IN_USE_FIRST 22000 /* 1000 ports, only the last one listens */
#define IN_USE_LAST 22999
#define FILTERED_FIRST 23000 /* 100 black holes: 23000-23099 */
#define FILTERED_COUNT 100
#define FILTERED_TIMEOUT_MS 400
#define SCAN_FIRST 1024 /* the full scan, with the scan fixture's 5 listeners */
#define SCAN_LAST 65535
#define SCAN_OPEN {1500, 8080, 25000, 31000, 65000} /* none in the ephemeral range */
#define SCAN_HOLES 42 /* the scan_holes fixture: SCAN_OPEN plus 42 black holes, */
#define SCAN_HOLE_FIRST 1100 /* one every SCAN_HOLE_STRIDE ports from 1100 (1100, */
#define SCAN_HOLE_STRIDE 1550 /* 2650, ..., 64650), spread over the whole scan */
