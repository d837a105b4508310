// install/standalone.sh and the web port (security QA): the service ran `mailhealth serve --port 8080` itself, so
// 127.0.0.1:8080 was free whenever it was down — every upgrade (the installer stops it to swap the app), the restart
// gap after a crash, boot before it started — and any local user (hosting customers with shell accounts) could bind
// it then and be handed what the admin's reverse proxy forwards, the login password included. Now the standalone
// install writes mailhealth.socket (systemd binds the port and keeps it) and the service Requires= it and takes the
// socket over (test/cli/serve-socket-activation.test.ts). The fake systemctl (sandbox.ts) models who holds the port,
// so each step's holder is seen; cPanel and Plesk installs (a Unix socket in /run/mailhealth) have no socket unit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, SHELLS, sandbox, type Sandbox } from './sandbox.js';

const SERVICE = 'etc/systemd/system/mailhealth.service';
const SOCKET = 'etc/systemd/system/mailhealth.socket';

/** The lines of one section of a unit file ("Unit", "Socket", …), comments left out. */
function section(unit: string, name: string): string[] {
  const out: string[] = [];
  let inside = false;
  for (const line of unit.split('\n')) {
    if (/^\[.*\]$/.test(line)) inside = line === `[${name}]`;
    else if (inside && line.trim() && !line.startsWith('#')) out.push(line);
  }
  return out;
}

const index = (lines: string[], prefix: string) => lines.findIndex((l) => l.startsWith(prefix));

for (const shell of SHELLS) {
  describe(`install/standalone.sh: systemd holds 127.0.0.1:8080 (mailhealth.socket) (${shell})`, () => {
    let s: Sandbox;
    before(() => (s = sandbox({ shell })));
    after(() => s.close());
    const R = (p: string) => join(s.root, p);

    /** A files panel with its panel.json, so the service can start (standalone-start.test.ts). */
    function configured(): void {
      mkdirSync(R('etc/mailhealth/panel'), { recursive: true });
      writeFileSync(R('etc/mailhealth/panel/panel.json'), '{}\n');
    }

    /** A fresh install of 0.1.0, configured and running; the call log cleared. */
    function installed(): void {
      s.run('standalone.sh', ['--purge']);
      s.holdPort(null);
      configured();
      s.release('0.1.0');
      const r = s.run('standalone.sh');
      assert.equal(r.code, 0, r.err + r.out);
      assert.equal(s.running(), '0.1.0');
      s.clear();
    }

    test('install: the socket unit is written, enabled and started before the service, which requires it', () => {
      s.run('standalone.sh', ['--purge']);
      configured();
      s.clear();
      const r = s.run('standalone.sh');
      assert.equal(r.code, 0, r.err + r.out);
      const socket = readFileSync(R(SOCKET), 'utf8');
      assert.equal(socket, readFileSync(join(REPO, 'install/mailhealth.socket'), 'utf8'));
      assert.equal(statSync(R(SOCKET)).mode & 0o777, 0o644);
      assert.deepEqual(section(socket, 'Socket'), ['ListenStream=127.0.0.1:8080']);
      assert.deepEqual(section(socket, 'Install'), ['WantedBy=sockets.target']);
      const unit = readFileSync(R(SERVICE), 'utf8');
      const deps = section(unit, 'Unit');
      assert.ok(deps.includes('Requires=mailhealth.socket'), deps.join('\n'));
      assert.ok(deps.includes('After=mailhealth.socket'), deps.join('\n'));
      // The command line is unchanged: --host/--port are what serve uses without the socket (a manual start).
      assert.match(unit, /^ExecStart=.* serve --host 127\.0\.0\.1 --port 8080$/m);
      assert.deepEqual(s.calls(), ['systemctl daemon-reload', 'systemctl enable mailhealth.socket', 'systemctl start mailhealth.socket', 'systemctl enable mailhealth.service', 'systemctl restart mailhealth.service']);
      assert.equal(s.portHolder(), 'socket');
      assert.equal(s.running(), '0.1.0');
      assert.match(r.out, /installed: http:\/\/127\.0\.0\.1:8080 \(loopback only; the port is held by systemd, mailhealth\.socket\)/);
    });

    test('upgrade: the port stays with the socket all through (the service stopped, the app swapped, started again)', () => {
      installed();
      s.release('0.2.0');
      const r = s.run('standalone.sh');
      assert.equal(r.code, 0, r.err + r.out);
      assert.equal(s.running(), '0.2.0');
      const ports = s.ports();
      assert.ok(ports.some((l) => l.startsWith('systemctl stop mailhealth.service')), ports.join('\n'));
      for (const l of ports) assert.match(l, / \| port=socket$/, `the port was not the socket's after "${l}":\n${ports.join('\n')}`);
      assert.ok(!s.calls().some((c) => /^systemctl (restart|stop|disable --now) mailhealth\.socket/.test(c)), s.calls().join('\n'));
      assert.equal(readFileSync(R(SOCKET), 'utf8'), readFileSync(join(REPO, 'install/mailhealth.socket'), 'utf8'));
    });

    test('upgrade from a version without the socket: the old service (on 8080 itself) is stopped, the socket started, then the service on it', () => {
      installed();
      // The older install: its unit ran serve on 8080 without the socket, which it did not have; its service bound
      // the port itself.
      rmSync(R(SOCKET), { force: true });
      const old = readFileSync(R(SERVICE), 'utf8')
        .split('\n')
        .filter((l) => !/^(Requires|After)=mailhealth\.socket$/.test(l))
        .join('\n');
      writeFileSync(R(SERVICE), old);
      s.holdPort('service');
      s.release('0.2.0');
      const r = s.run('standalone.sh');
      assert.equal(r.code, 0, r.err + r.out);
      assert.doesNotMatch(r.out + r.err, /did not start/);
      const ports = s.ports();
      const stop = index(ports, 'systemctl stop mailhealth.service');
      const start = index(ports, 'systemctl start mailhealth.socket');
      const restart = index(ports, 'systemctl restart mailhealth.service');
      assert.ok(stop !== -1 && stop < start && start < restart, ports.join('\n'));
      assert.match(ports[stop], / \| port=-$/, 'the old service let go of the port');
      assert.match(ports[start], / \| port=socket$/);
      assert.match(ports[restart], / \| port=socket$/);
      assert.equal(s.portHolder(), 'socket');
      assert.equal(s.running(), '0.2.0');
      assert.ok(existsSync(R(SOCKET)));
      assert.ok(section(readFileSync(R(SERVICE), 'utf8'), 'Unit').includes('Requires=mailhealth.socket'));
    });

    test('upgrade from a version without the socket, stopped after the swap: the exit trap starts the service, and with it the socket', () => {
      installed();
      rmSync(R(SOCKET), { force: true });
      writeFileSync(
        R(SERVICE),
        readFileSync(R(SERVICE), 'utf8')
          .split('\n')
          .filter((l) => !/^(Requires|After)=mailhealth\.socket$/.test(l))
          .join('\n'),
      );
      s.holdPort('service');
      s.release('0.2.0');
      const r = s.run('standalone.sh', [], { MH_FAIL: 'systemctl enable mailhealth.socket' });
      assert.equal(r.code, 1, r.err + r.out);
      assert.match(r.err, /the service runs the new version/);
      assert.equal(s.running(), '0.2.0');
      assert.equal(s.portHolder(), 'socket');
    });

    test('--uninstall and --purge remove the socket unit too: the port goes with the service', () => {
      installed();
      const r = s.run('standalone.sh', ['--uninstall']);
      assert.equal(r.code, 0, r.err + r.out);
      assert.ok(!existsSync(R(SOCKET)));
      assert.ok(!existsSync(R(SERVICE)));
      assert.deepEqual(s.calls(), ['systemctl disable --now mailhealth.service', 'systemctl disable --now mailhealth.socket', 'systemctl daemon-reload']);
      assert.equal(s.portHolder(), null);
      assert.equal(s.running(), null);
      installed();
      assert.equal(s.run('standalone.sh', ['--purge']).code, 0);
      assert.ok(!existsSync(R(SOCKET)));
      assert.ok(s.calls().includes('systemctl disable --now mailhealth.socket'), s.calls().join('\n'));
      assert.equal(s.portHolder(), null);
    });

    test('installed, not started (no panel yet): the socket unit is written but neither enabled nor started, as the service', () => {
      s.run('standalone.sh', ['--purge']);
      s.holdPort(null);
      s.clear();
      const r = s.run('standalone.sh');
      assert.equal(r.code, 0, r.err + r.out);
      assert.ok(existsSync(R(SOCKET)));
      assert.ok(section(readFileSync(R(SERVICE), 'utf8'), 'Unit').includes('Requires=mailhealth.socket'));
      assert.ok(!s.calls().some((c) => /^systemctl (enable|start|restart)/.test(c)), s.calls().join('\n'));
      assert.match(r.out, /installed, not started: configure the panel in \/etc\/mailhealth\/config\.json \(see README\), then: systemctl enable --now mailhealth\.socket mailhealth$/m);
      assert.equal(s.portHolder(), null);
    });

    test('another program holds 127.0.0.1:8080: the installer says so, and that the service did not start', () => {
      s.run('standalone.sh', ['--purge']);
      configured();
      s.holdPort('other');
      s.clear();
      const r = s.run('standalone.sh');
      assert.equal(r.code, 0, r.err + r.out);
      assert.match(r.out, /mailhealth\.socket did not start: is another program listening on 127\.0\.0\.1:8080 \(ss -ltnp 'sport = :8080'\)\? See: journalctl -u mailhealth\.socket/);
      assert.match(r.out, /the service did not start; see: journalctl -u mailhealth/);
      assert.equal(s.running(), null);
      s.holdPort(null);
    });

    test('a cPanel install replacing the standalone one removes its socket (its service listens on a Unix socket)', () => {
      installed();
      const r = s.run('cpanel.sh');
      assert.equal(r.code, 0, r.err + r.out);
      assert.match(r.out, /removed mailhealth\.socket \(127\.0\.0\.1:8080\) of the standalone install/);
      assert.ok(!existsSync(R(SOCKET)));
      assert.ok(!/mailhealth\.socket/.test(section(readFileSync(R(SERVICE), 'utf8'), 'Unit').join('\n')));
      assert.equal(s.portHolder(), null);
      assert.equal(s.running(), '0.1.0');
      // Installed again, the cPanel install writes no socket and says nothing of one.
      s.clear();
      const again = s.run('cpanel.sh');
      assert.equal(again.code, 0, again.err + again.out);
      assert.doesNotMatch(again.out, /mailhealth\.socket/);
      assert.ok(!s.calls().some((c) => c.includes('mailhealth.socket')), s.calls().join('\n'));
      assert.equal(s.run('cpanel.sh', ['--purge']).code, 0);
    });
  });
}
