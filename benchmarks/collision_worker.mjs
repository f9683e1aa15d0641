// benchmarks/collision_worker.mjs: get-port's side of the cross-process
// collision item; the twin of test/lock_worker.cpp (run.py starts 16 at once,
// in the network namespace it makes).
//
//   node collision_worker.mjs PICKS FROM TO [SEED]
//
// PICKS times: takes a port with get-port as its README shows
// (getPort({port: portNumbers(FROM, TO)}), falling back to any port; FROM 0:
// getPort(), and every port counts as in range; FROM = TO: getPort({port: FROM})),
// waits 0-20 ms (the test's set-up), then listens on it as a server would
// ([::], dual-stack; Node.js sets SO_REUSEADDR), keeps it 0-20 ms and closes it.
// A listen that fails with EADDRINUSE is a collision: another process was
// handed the same port. Prints one JSON line, as lock_worker does:
// {"picks":N,"in_range":N,"collisions":N,"errors":N,"scope":"process"}
// (get-port's locks are in-process only). Bounded: PICKS x (at most 40 ms + the pick).
import net from 'node:net';
import getPort, {portNumbers} from 'get-port';

const [picksText, fromText, toText, seedText] = process.argv.slice(2);
const picks = Number(picksText);
const from = Number(fromText);
const to = Number(toText);
if (!Number.isInteger(picks) || picks < 0 || picks > 100000 || !Number.isInteger(from) ||
    !Number.isInteger(to) || (from !== 0 && !(from <= to))) {
  console.error('usage: node collision_worker.mjs PICKS FROM TO [SEED]   (FROM 0: any port)');
  process.exit(2);
}

// The delays: minstd (lock_worker's std::minstd_rand), seeded with SEED, else the pid.
let state = (Number(seedText ?? process.pid) >>> 0) % 2147483647 || 1;
const delayMs = () => {
  state = Number((BigInt(state) * 48271n) % 2147483647n);
  return state % 21;
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const options = () => {
  if (from === 0) return undefined;
  if (from === to) return {port: from};
  return {port: portNumbers(from, to)};  // a generator: a new one per call
};

const listen = (port) => new Promise((resolve, reject) => {
  const server = net.createServer();
  server.once('error', reject);
  server.listen({port, host: '::', ipv6Only: false}, () => resolve(server));
});

let inRange = 0;
let collisions = 0;
let errors = 0;
for (let i = 0; i < picks; ++i) {
  let port;
  try {
    port = await getPort(options());
  } catch {
    ++errors;
    continue;
  }
  if (from === 0 || (port >= from && port <= to)) ++inRange;
  await sleep(delayMs());  // the test's set-up
  let server;
  try {
    server = await listen(port);
  } catch (error) {
    if (error.code === 'EADDRINUSE') ++collisions;
    else ++errors;
    continue;
  }
  await sleep(delayMs());  // the test runs
  await new Promise((resolve) => server.close(resolve));
}
console.log(JSON.stringify({picks, in_range: inRange, collisions, errors, scope: 'process'}));
