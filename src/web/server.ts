// Start the web service: reconcile interrupted fixes, mark interrupted bulk jobs, then listen on loopback (or a Unix
// socket path, for front doors that talk to a root-only socket).
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Panel } from '../core/panel.js';
import type { Resolver } from '../core/resolver.js';
import { reconcile } from '../core/plans/apply.js';
import type { Store } from '../adapters/store/store.js';
import { withSettings } from '../adapters/panels/with-settings.js';
import { createApp, type AppDeps, type MailhealthApp } from './app.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function checkListenHost(host: string): void {
  if (!LOOPBACK.has(host) && !host.startsWith('/')) {
    throw new Error(`--host ${host}: mailhealth serve listens on loopback (127.0.0.1, ::1) or a Unix socket path only; put the panel or a reverse proxy in front`);
  }
}

export interface RunningServer {
  app: MailhealthApp;
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function startServer(deps: AppDeps & { host: string; port: number }): Promise<RunningServer> {
  checkListenHost(deps.host);
  // Writes interrupted by a crash are settled before anyone can start new ones.
  const resolver: Resolver = deps.makeResolver();
  try {
    await reconcile({ panel: withSettings(deps.panel, deps.store) as Panel, resolver, history: deps.store, byUser: 'mailhealth' });
  } finally {
    (resolver as { close?: () => void }).close?.();
  }
  deps.store.interruptUnfinishedJobs();
  const app = createApp(deps);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = deps.host.startsWith('/') ? app.listen(deps.host) : app.listen(deps.port, deps.host);
    s.once('listening', () => resolve(s));
    s.once('error', reject);
  });
  const addr = server.address();
  const url = typeof addr === 'string' ? `unix:${addr}` : `http://${deps.host.includes(':') ? `[${deps.host}]` : deps.host}:${(addr as AddressInfo).port}`;
  return {
    app,
    server,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}

export type { Store };
