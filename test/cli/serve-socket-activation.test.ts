// `mailhealth serve` under systemd socket activation (security QA): the standalone install ran serve on 127.0.0.1:8080
// itself, so whenever the service was down — every upgrade, the 10 s before a restart after a crash, boot before it
// started — any local user could bind the port and be handed what the admin's reverse proxy forwards, passwords
// included. Now systemd holds the socket (install/mailhealth.socket) and serve takes it over when LISTEN_PID is its
// own pid (sd_listen_fds(3)): the port is never free while mailhealth is stopped, and serve's stop leaves systemd's
// socket listening. LISTEN_FDS meant for another process (a wrapper script that did not exec) is ignored, and said.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, cpSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { inheritedAddress, listenFrom, takeListenFrom } from '../../src/cli/commands/serve.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { CLI_ARGV } from '../helpers/cli-argv.js';

/** Prints, as the process exits, the LISTEN_* variables it still has (serve must have unset them). */
const ENV_AT_EXIT = `data:text/javascript,process.on("exit",()=>process.stderr.write("env at exit: "+JSON.stringify([process.env.LISTEN_PID,process.env.LISTEN_FDS,process.env.LISTEN_FDNAMES])+"\\n"))`;

/**
 * A listening TCP socket on 127.0.0.1 (port 0: the kernel's choice), as systemd makes for mailhealth.socket, and the
 * number of its file descriptor in this process. Node 20 cannot hand a net.Server to a child as such (spawn's stdio
 * takes streams, and a server is none: "stream._stdio.pause is not a function"), but it takes a positive integer as "a
 * file descriptor open in the parent": the server's handle's fd (Linux), which libuv duplicates into the child's slot
 * without close-on-exec — what systemd does with LISTEN_FDS.
 */
async function listeningSocket(t: TestContext): Promise<{ port: number; fd: number; holder: ChildProcess; close(): void }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
  assert.ok(Number.isInteger(fd) && fd > 2, `the server's fd: ${fd}`);
  // systemd does not accept on the socket while the service runs; this process would (libuv polls its listening
  // handle) and take some of the test's connections. So a holder process keeps a copy, as systemd does, and this
  // process closes its own once the child has its copy (close()).
  const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: ['ignore', 'ignore', 'ignore', fd] });
  const holderExit = new Promise<void>((r) => holder.once('exit', () => r()));
  t.after(async () => {
    if (holder.exitCode === null && holder.signalCode === null) holder.kill('SIGKILL');
    await holderExit;
    if (server.listening) server.close();
  });
  return { port, fd, holder, close: () => server.close() };
}

interface Served {
  child: ChildProcess;
  /** Resolves with the output so far once `re` matches it. */
  line(re: RegExp): Promise<RegExpExecArray>;
  output(): string;
  exited: Promise<number | null>;
}

/**
 * The CLI (`serve` on a copy of the demo panel) with `fd` as its fd 3 and LISTEN_FDS / LISTEN_FDNAMES set. `ownPid`:
 * LISTEN_PID is the child's own pid, which only the child knows before it runs — so it runs through /bin/sh, which
 * exports its own pid ($$) and execs node in its place (same pid), as systemd sets it just before its exec. Else
 * LISTEN_PID is `otherPid`.
 */
function serve(t: TestContext, fd: number, opts: { ownPid: true } | { otherPid: number }): Served {
  const dir = mkdtempSync(join(tmpdir(), 'mh-sockact-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(REPO_ROOT, 'src/demo/panel'), join(dir, 'panel'), { recursive: true });
  const argv = ['--import', ENV_AT_EXIT, ...CLI_ARGV, '--panel-root', join(dir, 'panel'), '--resolver', '127.0.0.1:9', '--db', join(dir, 'h.sqlite'), 'serve', '--host', '127.0.0.1', '--port', '0', '--no-report'];
  const env: NodeJS.ProcessEnv = { ...process.env, MAILHEALTH_DB: '', NO_COLOR: '1', LISTEN_FDS: '1', LISTEN_FDNAMES: 'mailhealth.socket' };
  const stdio: ['ignore', 'pipe', 'pipe', number] = ['ignore', 'pipe', 'pipe', fd];
  const child =
    'ownPid' in opts
      ? spawn('/bin/sh', ['-c', 'LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"', process.execPath, ...argv], { cwd: REPO_ROOT, env, stdio })
      : spawn(process.execPath, argv, { cwd: REPO_ROOT, env: { ...env, LISTEN_PID: String(opts.otherPid) }, stdio });
  let out = '';
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void; reject: (e: Error) => void }[] = [];
  const look = () => {
    for (const w of [...waiters]) {
      const m = w.re.exec(out);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout!.on('data', (d) => ((out += String(d)), look()));
  child.stderr!.on('data', (d) => ((out += String(d)), look()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      for (const w of waiters.splice(0)) w.reject(new Error(`exited (${code}) before ${w.re}:\n${out}`));
      resolve(code);
    }),
  );
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return {
    child,
    output: () => out,
    exited,
    line: (re) =>
      new Promise((resolve, reject) => {
        if (child.exitCode !== null) return reject(new Error(`exited before ${re}:\n${out}`));
        waiters.push({ re, resolve, reject });
        look();
      }),
  };
}

/** Whether a new socket can bind 127.0.0.1:port (what a local user would try while mailhealth is stopped). */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(false) : reject(e)));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Whether a TCP connection to 127.0.0.1:port is accepted into a listening socket's queue (refused: nobody listens). */
function connects(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNREFUSED' ? resolve(false) : reject(e)));
  });
}

const envAtExit = (out: string) => /env at exit: (.*)\n/.exec(out)?.[1];

describe('serve under systemd socket activation', () => {
  test('takes over the socket systemd passed (LISTEN_PID its own pid), serves on it, unsets LISTEN_*, and leaves it bound when it stops', { timeout: 90_000 }, async (t) => {
    const sock = await listeningSocket(t);
    const served = serve(t, sock.fd, { ownPid: true });
    sock.close(); // the child and the holder have their copies now
    const line = (await served.line(/serving on (.*)\n/))[1];
    assert.equal(line, `http://127.0.0.1:${sock.port} (the socket systemd passed, fd 3 "mailhealth.socket"; --host and --port are not used)`, '--port 0 is not used: the port of the socket passed');
    const res = await fetch(`http://127.0.0.1:${sock.port}/login`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<form[^>]*action="\/login"/);

    served.child.kill('SIGTERM');
    assert.equal(await served.exited, 0, served.output());
    assert.equal(envAtExit(served.output()), '[null,null,null]', 'LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES unset: no child of serve takes them');
    // serve closed its copy only: the holder's (systemd's) still listens — no one else can bind the port, and a
    // connection waits in its queue for the next start.
    assert.equal(await canBind(sock.port), false, 'the port stays bound after serve stopped');
    assert.equal(await connects(sock.port), true, 'the socket still listens after serve stopped');
    // Not vacuous: once the holder is gone too, the port is free.
    const gone = new Promise((r) => sock.holder.once('exit', r));
    sock.holder.kill('SIGKILL');
    await gone;
    assert.equal(await canBind(sock.port), true);
  });

  test('LISTEN_PID of another process: the socket passed is not used, said; serves on --host/--port', { timeout: 90_000 }, async (t) => {
    const sock = await listeningSocket(t);
    const served = serve(t, sock.fd, { otherPid: process.pid });
    sock.close();
    const m = await served.line(/serving on (http:\/\/127\.0\.0\.1:(\d+))\n/);
    assert.notEqual(Number(m[2]), sock.port);
    assert.match(served.output(), new RegExp(`the socket systemd passed is not used \\(LISTEN_PID=${process.pid} is another process \\(this one is \\d+: a script that starts mailhealth must exec it\\)\\): listening where --host and --port say \\(127\\.0\\.0\\.1:0\\)`));
    assert.equal((await fetch(`${m[1]}/login`)).status, 200);
    served.child.kill('SIGTERM');
    assert.equal(await served.exited, 0, served.output());
    assert.equal(envAtExit(served.output()), '[null,null,null]', 'unset whether used or not, as sd_listen_fds(unset_environment) does');
  });
});

describe('serve under systemd socket activation: what it refuses', () => {
  test('fd 3 is not a socket (a file): a clear error, nothing served', { timeout: 90_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'mh-sockact-file-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'not-a-socket'), '');
    const fd = openSync(join(dir, 'not-a-socket'), 'r');
    t.after(() => closeSync(fd));
    const served = serve(t, fd, { ownPid: true });
    // Exits, or (wrongly) serves: whichever comes first.
    const code = await Promise.race([served.exited, served.line(/serving on .*\n/).then((m) => `serving: ${m[0]}`)]);
    assert.equal(code, 2, 'exit 2, as an unexpected error');
    assert.match(served.output(), /the socket systemd passed \(fd 3\) cannot be listened on — is it a stream socket \(ListenStream= in mailhealth\.socket\)\? listen EINVAL/);
    assert.doesNotMatch(served.output(), /serving on/);
  });
});

describe('listenFrom (sd_listen_fds)', () => {
  const pid = 4242;
  test('its own pid and at least one socket: fd 3, the first name', () => {
    assert.deepEqual(listenFrom({ LISTEN_PID: '4242', LISTEN_FDS: '1' }, pid), { from: 'systemd', fd: 3, count: 1, name: null });
    assert.deepEqual(listenFrom({ LISTEN_PID: '4242', LISTEN_FDS: '2', LISTEN_FDNAMES: 'mailhealth.socket:other' }, pid), { from: 'systemd', fd: 3, count: 2, name: 'mailhealth.socket' });
  });
  test('nothing passed: --host/--port, nothing said', () => {
    assert.deepEqual(listenFrom({}, pid), { from: 'flags' });
    assert.deepEqual(listenFrom({ LISTEN_PID: '4242' }, pid), { from: 'flags' });
    assert.deepEqual(listenFrom({ LISTEN_FDS: '' }, pid), { from: 'flags' });
  });
  test('another pid, no pid, no socket, not numbers: ignored with the reason', () => {
    const ignored = (env: NodeJS.ProcessEnv) => {
      const r = listenFrom(env, pid);
      assert.equal(r.from, 'flags');
      return r.from === 'flags' ? (r.ignored ?? '') : '';
    };
    assert.match(ignored({ LISTEN_PID: '4243', LISTEN_FDS: '1' }), /^LISTEN_PID=4243 is another process \(this one is 4242/);
    assert.match(ignored({ LISTEN_PID: '04242', LISTEN_FDS: '1' }), /another process/);
    assert.match(ignored({ LISTEN_PID: '4242x', LISTEN_FDS: '1' }), /another process/);
    assert.match(ignored({ LISTEN_FDS: '1' }), /without LISTEN_PID/);
    assert.match(ignored({ LISTEN_PID: '4242', LISTEN_FDS: '0' }), /LISTEN_FDS=0 passes no socket/);
    assert.match(ignored({ LISTEN_PID: '4242', LISTEN_FDS: '-1' }), /passes no socket/);
  });
  test('takeListenFrom unsets the variables whatever it found', () => {
    for (const env of [{ LISTEN_PID: '4242', LISTEN_FDS: '1', LISTEN_FDNAMES: 'x' }, { LISTEN_PID: '1', LISTEN_FDS: '1', LISTEN_FDNAMES: 'x' }]) {
      const e: NodeJS.ProcessEnv = { ...env, PATH: '/bin' };
      takeListenFrom(e, pid);
      assert.deepEqual(e, { PATH: '/bin' });
    }
  });
});

describe('inheritedAddress: loopback or a Unix socket, as --host', () => {
  test('loopback and Unix sockets are served', () => {
    assert.deepEqual(inheritedAddress({ address: '127.0.0.1', family: 'IPv4', port: 8080 }), { url: 'http://127.0.0.1:8080' });
    assert.deepEqual(inheritedAddress({ address: '::1', family: 'IPv6', port: 8080 }), { url: 'http://[::1]:8080' });
    assert.deepEqual(inheritedAddress({ address: '::ffff:127.0.0.2', family: 'IPv6', port: 8080 }), { url: 'http://[::ffff:127.0.0.2]:8080' });
    assert.deepEqual(inheritedAddress('/run/mailhealth/web.sock'), { url: 'unix:/run/mailhealth/web.sock' });
  });
  test('every address (ListenStream=8080) or a public one: refused, with the line to fix', () => {
    for (const [address, family] of [['0.0.0.0', 'IPv4'], ['::', 'IPv6'], ['192.0.2.10', 'IPv4']]) {
      const r = inheritedAddress({ address, family, port: 8080 });
      assert.ok('refused' in r, address);
      assert.match(r.refused, /not on loopback: mailhealth serve listens on loopback .* Set ListenStream=127\.0\.0\.1:8080 in mailhealth\.socket/);
    }
  });
});
