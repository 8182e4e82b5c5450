// Small HTTP helpers shared by the gateway and the services.
import type { IncomingMessage, ServerResponse } from 'node:http';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Reads the whole request body (bounded), as raw bytes. A declared length over
 * the limit is refused before anything is read; past the limit reading stops,
 * and the rest is left to `closeIfBodyUnread`.
 */
export function readBody(req: IncomingMessage, limitBytes = 10 << 20): Promise<Buffer> {
  if (Number(req.headers['content-length'] ?? 0) > limitBytes) return Promise.reject(new BodyTooLargeError(limitBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        done();
        req.pause();
        reject(new BodyTooLargeError(limitBytes));
      } else chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** How long a refused upload may go on being read (and dropped) after the answer. */
const LINGER_MS = 2000;

/**
 * A response that starts before its request body was read in full (a refused
 * upload) ends the connection, as proxies do: the unread rest cannot be skipped
 * to reach a next request. The answer carries `connection: close` and our side
 * of the connection is shut after it; what the client still sends is read and
 * dropped for a moment, because closing a socket with unread bytes resets it, and
 * a reset can discard the answer before the client reads it.
 */
export function closeIfBodyUnread(req: IncomingMessage, res: ServerResponse): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
    if (!req.complete && !res.headersSent) {
      res.setHeader('connection', 'close');
      const socket = req.socket;
      // Node would destroy the socket right after the answer; shutting the write side lets it linger.
      socket.destroySoon = () => socket.end();
      res.once('finish', () => {
        req.removeAllListeners('data');
        req.resume();
        setTimeout(() => socket.destroy(), LINGER_MS).unref();
      });
    }
    return writeHead.apply(this, args);
  } as ServerResponse['writeHead'];
}

export class BodyTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`request body is larger than ${limitBytes} bytes`);
  }
}

/** The bearer token of an Authorization header, or null. */
export function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const match = /^bearer\s+(.+)$/i.exec(header.trim());
  return match ? match[1].trim() : null;
}
