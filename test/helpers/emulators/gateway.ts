// A loopback gateway (reverse proxy) in front of a panel emulator, as Plesk's nginx sits before its PHP on :8443 or a
// proxy before cPanel: it forwards every request, except the ones a rule picks, which it answers itself — typically
// with 504 Gateway Time-out — after forwarding them (the panel made the change, the answer was lost), before
// forwarding them (`defer`: the panel makes the change a moment later, when the test calls flush()), or without
// forwarding them at all (`never`: nothing reached the panel). 127.0.0.1, port 0 only.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GatewayRequest {
  method: string;
  url: string;
  body: string;
}

export interface GatewayRule {
  match(req: GatewayRequest): boolean;
  /** When the panel gets the request: 'after' (forwarded, its answer dropped), 'defer' (on flush()), 'never'. */
  forward: 'after' | 'defer' | 'never';
  /** Default 504. */
  status?: number;
  contentType?: string;
  /** Default nginx's 504 page. */
  body?: string;
  /** Default true: the rule picks the first matching request only. */
  once?: boolean;
}

export interface Gateway {
  url: string;
  /** "METHOD url" of every request the rules picked. */
  picked: string[];
  /** Forward the deferred requests now (in order) and wait for the panel's answers, which nobody reads. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const NGINX_504 = '<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

export async function startGateway(upstream: string, rules: GatewayRule[]): Promise<Gateway> {
  const used = new Set<GatewayRule>();
  const deferred: (() => Promise<unknown>)[] = [];
  const picked: string[] = [];
  const forward = (req: http.IncomingMessage, body: Buffer) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const up = http.request(new URL(req.url ?? '/', upstream), { method: req.method, headers: { ...req.headers, host: new URL(upstream).host } }, (ur) => {
        const chunks: Buffer[] = [];
        ur.on('data', (c: Buffer) => chunks.push(c));
        ur.on('end', () => resolve({ status: ur.statusCode ?? 0, headers: ur.headers, body: Buffer.concat(chunks) }));
        ur.on('error', reject);
      });
      up.on('error', reject);
      up.end(body);
    });
  const server = http.createServer(async (req, res) => {
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      const seen: GatewayRequest = { method: req.method ?? 'GET', url: req.url ?? '/', body: body.toString('utf8') };
      const rule = rules.find((r) => !((r.once ?? true) && used.has(r)) && r.match(seen));
      if (!rule) {
        const up = await forward(req, body);
        res.writeHead(up.status, up.headers);
        res.end(up.body);
        return;
      }
      used.add(rule);
      picked.push(`${seen.method} ${seen.url}`);
      if (rule.forward === 'after') await forward(req, body);
      if (rule.forward === 'defer') deferred.push(() => forward(req, body));
      res.writeHead(rule.status ?? 504, { 'content-type': rule.contentType ?? 'text/html' });
      res.end(rule.body ?? NGINX_504);
    } catch (e) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`gateway: ${(e as Error).message}`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    picked,
    async flush() {
      for (const f of deferred.splice(0)) await f();
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
