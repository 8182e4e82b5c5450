// The supported Node versions (`engines`; CI runs the suite on Node 20 and on the
// current LTS, see .ci/run) and the one difference between them that clients see:
// Node 22+ has a global WebSocket that supabase-js uses by itself, Node 20 needs `ws`.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createClient } from '@supabase/supabase-js';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../stack/config.ts';
import { stackEnv } from '../helpers/env.ts';
import { nodeNeedsWsTransport, testClient } from '../helpers/supabase.ts';
import { subscribe } from '../realtime/clients.ts';

const major = Number(process.versions.node.split('.')[0]);

describe('Node', () => {
  it('runs a version that `engines` supports', () => {
    const range: string = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')).engines.node;
    const majors = range.split('||').map((part) => Number(/\^(\d+)\./.exec(part.trim())?.[1]));
    expect(majors).toEqual([20, 22, 24]);
    expect(majors).toContain(major);
  });

  it('has a global WebSocket from Node 22 on, and only Node 20 gets `ws` from the test clients', () => {
    expect(nodeNeedsWsTransport).toBe(major < 22);
  });

  it.runIf(major >= 22)('supabase-js subscribes with the runtime WebSocket, no transport given', async () => {
    const client = createClient(stackEnv().url, stackEnv().anonKey, { auth: { persistSession: false, autoRefreshToken: false } });
    try {
      expect(client.realtime.transport).toBe(globalThis.WebSocket);
      const { status } = await subscribe(client.channel(`node-${major}-native`));
      expect(status).toBe('SUBSCRIBED');
    } finally {
      await client.removeAllChannels();
    }
  });

  it.runIf(major < 22)('supabase-js on Node 20 cannot be built without a transport, and subscribes with `ws`', async () => {
    expect(() => createClient(stackEnv().url, stackEnv().anonKey)).toThrow(/Node\.js 20 detected without native WebSocket support/);
    const client = testClient();
    try {
      const { status } = await subscribe(client.channel('node-20-ws'));
      expect(status).toBe('SUBSCRIBED');
    } finally {
      await client.removeAllChannels();
    }
  });
});
