// Over-limit bodies (issue 13, finding 9): every 413 is answered before the body
// is read and ends the connection, so a client that is still uploading gets the
// answer and its next request goes through.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { stackEnv } from '../helpers/env.ts';
import { testClient } from '../helpers/supabase.ts';

interface Refusal {
  /** The status line and headers of the answer. */
  head: string;
  /** The server ended the connection before the client finished its body. */
  closedByServer: boolean;
}

/**
 * Declares a body of `declared` bytes, sends `sent` of them and then waits, as a
 * slow or hostile uploader does: what comes back, and whether the server ends the connection.
 */
function upload(path: string, declared: number, sent: number, headers: Record<string, string> = {}): Promise<Refusal> {
  const url = new URL(stackEnv().url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ head: received.split('\r\n\r\n')[0], closedByServer: false });
    }, 10_000);
    socket.on('data', (d) => (received += d.toString('latin1')));
    socket.on('end', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ head: received.split('\r\n\r\n')[0], closedByServer: true });
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      if (received) resolve({ head: received.split('\r\n\r\n')[0], closedByServer: true });
      else reject(err);
    });
    const lines = Object.entries({ host: url.host, apikey: stackEnv().anonKey, 'content-type': 'application/json', 'content-length': String(declared), ...headers })
      .map(([k, v]) => `${k}: ${v}`);
    socket.write(`POST ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
    socket.write(Buffer.alloc(sent, 0x20));
  });
}

const MB = 1 << 20;

describe.runIf(stackEnv().embedded)('413 answers end the connection (finding 9)', () => {
  const cases: Array<[string, string, number, Record<string, string>?]> = [
    ['REST (10 MB)', '/rest/v1/vendors', 11 * MB],
    ['Auth (1 MB)', '/auth/v1/otp', 2 * MB],
    ['Realtime broadcast (3 MB)', '/realtime/v1/api/broadcast', 4 * MB],
    ['a function (1 MB)', '/functions/v1/paystack-webhook', 2 * MB, { 'x-paystack-signature': 'x' }],
  ];
  for (const [name, path, size, headers] of cases) {
    it(`${name}: 413 with connection: close while the client is still sending`, async () => {
      // Declared larger than what is sent: the server must not wait for the rest.
      const refusal = await upload(path, size * 4, size, headers);
      expect(refusal.head).toMatch(/^HTTP\/1\.1 413 /);
      expect(refusal.head.toLowerCase()).toContain('connection: close');
      expect(refusal.closedByServer).toBe(true);
      const next = await fetch(`${stackEnv().url}/rest/v1/vendors?select=id&limit=1`, { headers: { apikey: stackEnv().anonKey } });
      expect(next.status).toBe(200);
    }, 20_000);
  }

  it('supabase-js gets the 413 of an 11 MB insert, then its next request works', async () => {
    const client = testClient();
    const rows = Array.from({ length: 11 * 1024 }, () => ({ name: 'x'.repeat(1024) }));
    const { error, status } = await client.from('vendors').insert(rows);
    expect(status).toBe(413);
    expect(error).toMatchObject({ code: 'PGRST102' });
    expect((await client.from('vendors').select('id').limit(1)).status).toBe(200);
  }, 20_000);

  it('supabase-js gets the 413 of a 2 MB sign-in and of a 4 MB broadcast over HTTP, then its next requests work', async () => {
    const client = testClient();
    const { error } = await client.auth.signInWithOtp({ phone: '+2348000000001', options: { data: { blob: 'x'.repeat(2 * MB) } } });
    expect(error).toMatchObject({ status: 413, code: 'request_entity_too_large' });
    const channel = client.channel('big-http-broadcast');
    await expect(channel.httpSend('big', { blob: 'x'.repeat(4 * MB) })).rejects.toThrow('Payload too large');
    expect((await client.from('vendors').select('id').limit(1)).status).toBe(200);
    expect(await channel.httpSend('small', { ok: true })).toMatchObject({ success: true });
  }, 20_000);
});
