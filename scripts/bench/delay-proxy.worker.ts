// Worker thread of the bench's delaying TCP proxy (see startDelayProxy in
// harness.ts). Node's timers fire on whole milliseconds and late (a 0.5 ms
// delay each way became about 2.1 ms per round trip), so chunks wait in one
// queue here, and a second thread sleeps in Atomics.wait (futex timeouts, well
// under a millisecond) until the first is due, then wakes this thread's event
// loop with a message. Neither thread spins, and this one has nothing else to
// do, so the stack's load does not delay its releases. A futex wakes late
// (0.15-0.35 ms on the loaded 2-core machine) and the message takes its time
// too, so the clock wakes early by a lead that this thread adjusts from how
// late each release was: on average chunks leave when due.
import net from 'node:net';
import { parentPort, Worker, workerData } from 'node:worker_threads';

const { host, port, delayMs } = workerData as { host: string; port: number; delayMs: number };
const now = () => performance.timeOrigin + performance.now();

// [0]: bumped on every change of the due time; then the due time (absolute
// ms, 0 = none, -1 = stop) and the lead (ms), as doubles.
const shared = new SharedArrayBuffer(24);
const seq = new Int32Array(shared, 0, 1);
const due = new Float64Array(shared, 8, 1);
const lead = new Float64Array(shared, 16, 1);
const CLOCK = `
const { parentPort, workerData } = require('node:worker_threads');
const seq = new Int32Array(workerData, 0, 1);
const due = new Float64Array(workerData, 8, 1);
const lead = new Float64Array(workerData, 16, 1);
const now = () => performance.timeOrigin + performance.now();
for (;;) {
  const s = Atomics.load(seq, 0);
  const at = due[0];
  if (at === -1) break;
  const wait = at === 0 ? Infinity : at - lead[0] - now();
  if (wait > 0) Atomics.wait(seq, 0, s, wait);
  else {
    parentPort.postMessage(0);
    Atomics.wait(seq, 0, s);
  }
}`;
const clock = new Worker(CLOCK, { eval: true, workerData: shared });

type Held = { at: number; to: net.Socket; chunk: Buffer | null };
const queue: Held[] = [];
let head = 0;

function setDue(at: number): void {
  due[0] = at;
  Atomics.add(seq, 0, 1);
  Atomics.notify(seq, 0);
}

function hold(to: net.Socket, chunk: Buffer | null): void {
  queue.push({ at: now() + delayMs, to, chunk });
  if (queue.length - head === 1) setDue(queue[head].at);
}

// The clock says the first chunk is due: pass on everything due by now, in order.
clock.on('message', () => {
  const t = now();
  if (head < queue.length) lead[0] = Math.min(delayMs, Math.max(0, lead[0] + 0.1 * (t - queue[head].at)));
  while (head < queue.length && queue[head].at <= t + lead[0]) {
    const { to, chunk } = queue[head++];
    if (to.destroyed) continue;
    if (chunk) to.write(chunk);
    else to.end();
  }
  if (head > 1024 && head * 2 > queue.length) queue.splice(0, head), (head = 0);
  setDue(head < queue.length ? queue[head].at : 0);
});

const sockets = new Set<net.Socket>();
const server = net.createServer((client) => {
  const upstream = net.connect(port, host);
  for (const s of [client, upstream]) {
    s.setNoDelay(true);
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {
      client.destroy();
      upstream.destroy();
    });
  }
  client.on('data', (chunk) => hold(upstream, chunk)).on('end', () => hold(upstream, null));
  upstream.on('data', (chunk) => hold(client, chunk)).on('end', () => hold(client, null));
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
});
server.listen(0, '127.0.0.1', () => parentPort!.postMessage((server.address() as net.AddressInfo).port));

parentPort!.on('message', () => {
  for (const s of sockets) s.destroy();
  due[0] = -1;
  Atomics.add(seq, 0, 1);
  Atomics.notify(seq, 0);
  server.close(() => process.exit(0));
});
