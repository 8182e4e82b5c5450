// Runs in Deno: hosts one edge function the way Supabase's edge runtime does.
// The function's module calls `Deno.serve(handler)` (or default-exports
// `{ fetch }`); the handler is served on the unix socket the stack chose, and a
// thrown error becomes the runtime's 500 JSON answer with a log line.
// Usage: deno run … worker-host.js <entrypoint file URL> <socket path>
const [entrypoint, socketPath] = Deno.args;
const READY = '\u0000rambini-functions-worker-ready';
const realServe = Deno.serve.bind(Deno);
let server = null;

function guarded(handler) {
  return async (req, info) => {
    try {
      return await handler(req, info);
    } catch (err) {
      console.error(err?.stack ?? String(err));
      return Response.json(
        { code: 'WORKER_ERROR', message: 'Function exited due to an error (please check logs)' },
        { status: 500, headers: { 'sb-error-code': 'WORKER_ERROR' } },
      );
    }
  };
}

function listen(handler) {
  if (server) throw new Error('Deno.serve was called twice: an edge function serves one handler');
  server = realServe({ path: socketPath, onListen: () => console.log(READY) }, guarded(handler));
  return server;
}

// Every call shape of Deno.serve: (handler), (options, handler), ({ handler, ...options }).
// Host and port options are ignored: the runtime decides where the function listens.
Deno.serve = (a, b) => {
  const handler = typeof a === 'function' ? a : typeof b === 'function' ? b : a?.handler;
  if (typeof handler !== 'function') throw new TypeError('Deno.serve needs a handler function');
  return listen(handler);
};

// A worker never outlives the stack that started it, even one killed hard.
const parent = Deno.ppid;
Deno.unrefTimer(setInterval(() => {
  if (Deno.ppid !== parent) Deno.exit(0);
}, 1000));

const mod = await import(entrypoint);
if (!server && typeof mod.default?.fetch === 'function') listen((req, info) => mod.default.fetch(req, info));
if (!server) {
  console.error(`${entrypoint} neither called Deno.serve nor exported a default { fetch } handler`);
  Deno.exit(1);
}
