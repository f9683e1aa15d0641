// benchmarks/peers.mjs: the peers' side of each work item, in-process in
// Node.js, as their READMEs show them used. One run = one repetition.
//
//   node peers.mjs PEER ITEM CALLS   prints {"item": ..., "seconds": S, "calls": N, "answer": A}
//
// PEER is get-port or portscanner. Ports: layout.h, read by run.py and passed
// in the environment (BENCH_*), inside the network namespace run.py makes.
import getPort, {clearLockedPorts, portNumbers} from 'get-port';
import portscanner from 'portscanner';

const [peer, item, callsText] = process.argv.slice(2);
const calls = Number(callsText);
const env = (name) => Number(process.env[`BENCH_${name}`]);
const host = '127.0.0.1';

const work = {
  'get-port': {
    random: async () => getPort(),
    range: async () => {
      const port = await getPort({port: portNumbers(env('RANGE_FIRST'), env('RANGE_LAST'))});
      clearLockedPorts(); // the next call finds the same port, as portprobe's does
      return port;
    },
  },
  portscanner: {
    range: async () => portscanner.findAPortNotInUse(env('RANGE_FIRST'), env('RANGE_LAST'), host),
    closed: async () => Number((await portscanner.checkPortStatus(env('CLOSED_PORT'), host)) === 'open'),
    open: async () => Number((await portscanner.checkPortStatus(env('OPEN_PORT'), host)) === 'open'),
    in_use: async () => portscanner.findAPortInUse(env('IN_USE_FIRST'), env('IN_USE_LAST'), host),
    filtered: async () => {
      const first = env('FILTERED_FIRST');
      try {
        return await portscanner.findAPortInUse(first, first + env('FILTERED_COUNT') - 1,
                                                {host, timeout: env('FILTERED_TIMEOUT_MS')});
      } catch (error) {  // its promise rejects when no port is in use
        if (error.message === 'No open port found') return 0;
        throw error;
      }
    },
  },
};

const run = work[peer]?.[item];
if (!run || !(calls > 0)) {
  console.error(`usage: node peers.mjs get-port|portscanner ITEM CALLS (no ${peer} ${item})`);
  process.exit(2);
}
let answer = -1;
const start = process.hrtime.bigint();
for (let i = 0; i < calls; ++i) answer = await run();
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log(JSON.stringify({item, seconds, calls, answer: Number(answer)}));
