// Worker thread for the realtime benchmark: holds many supabase-js sockets
// subscribed to one topic, so receiving them runs on the second core rather
// than in the event loop of the stack being measured. Reports, per status
// change, the commit→receipt latency seen by every socket.
import { parentPort } from 'node:worker_threads';
import { createClient, type RealtimeChannel, type SupabaseClient } from '@supabase/supabase-js';
import ws from 'ws';

type Command = { type: 'open'; apiUrl: string; anonKey: string; topic: string; count: number } | { type: 'close' };

const port = parentPort!;
let clients: SupabaseClient[] = [];
let latencies: number[] = [];

function subscribed(channel: RealtimeChannel): Promise<void> {
  return new Promise((resolve, reject) => channel.subscribe((status, err) => (status === 'SUBSCRIBED' ? resolve() : reject(new Error(`${status} ${err?.message ?? ''}`)))));
}

port.on('message', async (cmd: Command) => {
  if (cmd.type === 'open') {
    clients = Array.from({ length: cmd.count }, () => createClient(cmd.apiUrl, cmd.anonKey, { auth: { persistSession: false, autoRefreshToken: false }, realtime: { transport: ws as never } }));
    const channels = clients.map((c) => c.channel(cmd.topic));
    for (const ch of channels) {
      ch.on('broadcast', { event: 'status_changed' }, (m) => {
        latencies.push(performance.timeOrigin + performance.now() - m.payload.sent_at);
        if (latencies.length === cmd.count) {
          port.postMessage({ type: 'received', latencies });
          latencies = [];
        }
      });
    }
    for (let i = 0; i < channels.length; i += 100) await Promise.all(channels.slice(i, i + 100).map(subscribed));
    port.postMessage({ type: 'ready' });
  } else {
    await Promise.all(clients.map((c) => c.removeAllChannels()));
    clients = [];
    port.postMessage({ type: 'closed' });
  }
});
