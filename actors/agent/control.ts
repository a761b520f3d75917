// The agent's control endpoint (HTTP): GET /peers and /zones as JSON for `mpdns ctl`, and
// /metrics in the Prometheus text format. On loopback by default; anywhere else every request
// must carry `Authorization: Bearer <token>`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Peer } from '../../dns/net/transport.ts';
import type { Metrics } from '../metrics.ts';

export interface ControlSource {
  peers(): Promise<unknown>;
  zones(): unknown;
}

export interface ControlServer {
  readonly address: Peer;
  stop(): Promise<void>;
}

function authorised(req: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const given = Buffer.from(req.headers.authorization ?? '');
  const want = Buffer.from(`Bearer ${token}`);
  return given.length === want.length && timingSafeEqual(given, want);
}

function reply(res: ServerResponse, status: number, body: string, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Serves `source` and `metrics` on `listen` (port 0 picks one); /metrics only without a source. */
export async function startControl(listen: Peer, source: ControlSource | undefined, metrics: Metrics, token?: string): Promise<ControlServer> {
  const server: Server = createServer((req, res) => {
    if (!authorised(req, token)) return reply(res, 401, '{"error":"unauthorized"}');
    if (req.method !== 'GET') return reply(res, 405, '{"error":"GET only"}');
    const path = new URL(req.url ?? '/', 'http://control').pathname;
    if (path === '/metrics') return reply(res, 200, metrics.text(), 'text/plain; version=0.0.4');
    if (source === undefined) return reply(res, 404, '{"error":"not found"}');
    if (path === '/zones') return reply(res, 200, JSON.stringify(source.zones()));
    if (path === '/peers') {
      source.peers().then(
        (p) => reply(res, 200, JSON.stringify(p)),
        (e: unknown) => reply(res, 500, JSON.stringify({ error: e instanceof Error ? e.message : String(e) })),
      );
      return undefined;
    }
    return reply(res, 404, '{"error":"not found"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.address, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : listen.port;
  return {
    address: { address: listen.address, port },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
