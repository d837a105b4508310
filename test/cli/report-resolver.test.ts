// Found by QA walking the README: `mailhealth report` (run from cron) asked the system resolver although the admin had
// saved another on the settings page (`dns.resolver`) — which the nightly run of `serve`/`service` uses. And
// `--resolver ""` (`--resolver "$UNSET"`) silently meant the system resolver, while an empty --db or --config is a
// usage error.
//
// No DNS may leave loopback here: the stored setting points at the test's loopback server, and every datagram or TCP
// connection to anything but loopback is stopped (and counted) while the report runs — the old code's query to the
// system resolver (/etc/resolv.conf) is caught there instead of being sent.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { reportCommand, type ReportCommandOptions } from '../../src/cli/commands/report.js';
import { resolverOptionsFrom, UsageError } from '../../src/cli/context.js';
import { openStore } from '../../src/adapters/store/store.js';
import { countingLimiter, startWorld, type TestWorld } from '../cron/world.js';
import { runCli } from '../helpers/cli.js';

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  return /^127\./.test(h) || h === '::1' || /^::ffff:127\./i.test(h) || h === 'localhost';
}

/** Runs `fn` with every UDP datagram / connect and TCP connect to a non-loopback address stopped and recorded. */
async function loopbackOnly<T>(fn: () => Promise<T>): Promise<{ result: T; stopped: string[] }> {
  const stopped: string[] = [];
  const refuse = (host: string) => {
    stopped.push(host);
    return Object.assign(new Error(`the test allows DNS to loopback only (not ${host})`), { code: 'EHOSTUNREACH' });
  };
  const U = dgram.Socket.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const T = net.Socket.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const [send, uconnect, tconnect] = [U.send, U.connect, T.connect];
  U.send = function (this: unknown, ...args: unknown[]) {
    const host = args.slice(1).find((a): a is string => typeof a === 'string');
    if (host !== undefined && !isLoopback(host)) {
      const cb = args[args.length - 1];
      const err = refuse(host);
      if (typeof cb === 'function') process.nextTick(cb as (e: Error) => void, err);
      return;
    }
    return send.apply(this, args);
  };
  U.connect = function (this: unknown, ...args: unknown[]) {
    const host = typeof args[1] === 'string' ? args[1] : undefined;
    if (host !== undefined && !isLoopback(host)) {
      const cb = args.find((a) => typeof a === 'function');
      const err = refuse(host);
      if (typeof cb === 'function') process.nextTick(cb as (e: Error) => void, err);
      return;
    }
    return uconnect.apply(this, args);
  };
  T.connect = function (this: net.Socket, ...args: unknown[]) {
    const first = args[0];
    const host = typeof first === 'object' && first !== null ? (first as { host?: string }).host : typeof args[1] === 'string' ? args[1] : undefined;
    if (host !== undefined && !isLoopback(host)) {
      const err = refuse(host);
      process.nextTick(() => this.destroy(err));
      return this;
    }
    return tconnect.apply(this, args);
  };
  try {
    return { result: await fn(), stopped };
  } finally {
    U.send = send;
    U.connect = uconnect;
    T.connect = tconnect;
  }
}

describe('report: the resolver saved on the settings page', () => {
  let w: TestWorld;
  before(async () => {
    w = await startWorld();
  });
  after(() => w?.close());

  async function report(o: Partial<ReportCommandOptions>, db: string) {
    let stdout = '';
    const { result: code, stopped } = await loopbackOnly(() =>
      reportCommand(
        { panel: 'files', panelRoot: join(w.dir, 'panel'), authoritativePort: w.dns.port, db, json: true, ...o },
        { limiter: countingLimiter(), stdout: (s) => void (stdout += s), stderr: () => undefined },
      ),
    );
    return { code, stopped, doc: JSON.parse(stdout) as { newProblems: { rule: string }[]; unknown: unknown[] } };
  }

  test('without --resolver, report asks the saved one (dns.resolver), as the nightly run does', async () => {
    const db = join(w.dir, 'saved-resolver.sqlite');
    const seed = openStore(db);
    seed.setSetting('dns.resolver', w.dns.address);
    seed.close();
    const queries = w.dns.queries;
    const r = await report({}, db);
    assert.deepEqual(r.stopped, [], 'nothing was asked of the system resolver');
    assert.ok(w.dns.queries > queries, 'the saved resolver was asked');
    assert.equal(r.doc.unknown.length, 0, 'every answer came: nothing unknown');
    assert.ok(r.doc.newProblems.length > 0);
  });

  test('--resolver on the command line wins over the saved one', async () => {
    // The saved one: a loopback socket that never answers (and counts what it gets).
    const sink = dgram.createSocket('udp4');
    let asked = 0;
    sink.on('message', () => void asked++);
    await new Promise<void>((res) => sink.bind(0, '127.0.0.1', () => res()));
    try {
      const db = join(w.dir, 'flag-wins.sqlite');
      const seed = openStore(db);
      seed.setSetting('dns.resolver', `127.0.0.1:${sink.address().port}`);
      seed.close();
      const r = await report({ resolver: w.dns.address }, db);
      assert.deepEqual(r.stopped, []);
      assert.equal(asked, 0, 'the saved resolver was not asked');
      assert.equal(r.doc.unknown.length, 0);
    } finally {
      sink.close();
    }
  });

  test('--resolver "" is a usage error: nothing run, no database created', async () => {
    const db = join(w.dir, 'empty-resolver.sqlite');
    await assert.rejects(report({ resolver: '' }, db), (e: Error) => e instanceof UsageError && /--resolver needs an address/.test(e.message));
    assert.equal(existsSync(db), false);
    assert.throws(() => resolverOptionsFrom({ resolver: '' }), /--resolver needs an address/);
  });
});

test('--resolver "" is a usage error for every command, as an empty --db or --config is (exit 2, kind usage)', async () => {
  for (const args of [
    ['--resolver', '', '--panel-root', '/nonexistent', 'audit', 'clean.example', '--json'],
    ['--resolver', '', '--db', '/nonexistent/h.sqlite', 'history', '--json'],
    ['--resolver', '', 'explain', '--json'],
  ]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.equal((JSON.parse(r.stdout) as { error: { kind: string } }).error.kind, 'usage');
    assert.match(r.stderr, /--resolver needs an address/);
  }
});
