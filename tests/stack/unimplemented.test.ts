// A mount whose service is missing says so (501 naming it), never a wrong answer.
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { unimplementedService } from '../../stack/services/unimplemented.ts';

describe('unimplemented service', () => {
  it('answers 501 with JSON naming what is missing', async () => {
    const service = unimplementedService('/storage/v1', 'Storage');
    const server = http.createServer((req, res) => void service.handle(req, res, { path: '/bucket', url: new URL('http://x/storage/v1/bucket'), apiKey: null, apiKeyRole: null }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as { port: number };
      const res = await fetch(`http://127.0.0.1:${port}/storage/v1/bucket`);
      expect(res.status).toBe(501);
      const body = await res.json();
      expect(body.code).toBe('not_implemented');
      expect(body.message).toContain('Storage');
      expect((await service.health()).ok).toBe(false);
    } finally {
      server.close();
    }
  });
});
