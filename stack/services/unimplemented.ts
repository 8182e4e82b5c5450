// Supabase APIs that the local stack does not provide answer 501 with a JSON
// body that names what is missing, never a silent wrong answer.
import { sendJson } from '../http.ts';
import type { Service } from './service.ts';

export function unimplementedService(mount: string, what: string): Service {
  return {
    mount,
    handle(_req, res, gw) {
      sendJson(res, 501, {
        code: 'not_implemented',
        message: `The local stack does not implement ${what} (${mount}${gw.path})`,
        hint: 'See stack/README.md for what the local stack supports; run against hosted Supabase or `supabase start` for the rest.',
      });
    },
    upgrade(_req, socket) {
      socket.end('HTTP/1.1 501 Not Implemented\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n' + JSON.stringify({ code: 'not_implemented', message: `The local stack does not implement ${what}` }));
    },
    async close() {},
  };
}
