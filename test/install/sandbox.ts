// The installers' test sandbox: a temp root (MAILHEALTH_ROOT), a release laid out as `npm run package` lays it out, and
// fake panel tools, systemctl and node that record their arguments. Never touches the real /.
//
// The fakes also keep a small model of the server, for the upgrade tests (upgrade.test.ts):
// - systemctl: `stop` / `disable --now` stop "the service", `restart` / `start` start it on the app installed at that
//   moment (its package.json version, in $MH_BASE/service; absent: not running), `is-active` says whether it runs
//   (exit 3 when not, as systemd's), and a unit that is not there cannot be started or stopped (exit 5, as systemd's
//   "Unit mailhealth.service not found");
// - systemctl also models who holds 127.0.0.1:8080 (the standalone install's web port, standalone-socket.test.ts):
//   mailhealth.socket once started ($MH_BASE/socket; `start` keeps a listening socket, `restart` closes it for a
//   moment, `stop` / `disable --now` close it and stop a service that Requires= it), or a service whose unit runs
//   `--port 8080` without Requires=mailhealth.socket (an older standalone install: it binds the port itself,
//   $MH_BASE/own-port). Starting the socket while another holds the port fails (exit 1, "Address already in use"), as
//   does such an older service while the port is held; a service that Requires= the socket starts it first. Each call
//   appends `<call> | port=<socket, service or -: free>` to $MH_BASE/ports (ports(); a restart of the socket adds its
//   moment with the port free);
// - every fake appends `<call> | service=<running version or -> app=<installed version or ->` to $MH_BASE/timeline,
//   so a test sees what code the service ran while each step happened;
// - MH_FAIL=PREFIX: the fake call whose line (`install_plugin …`, `plesk bin extension --upgrade …`) starts with PREFIX
//   exits 1; MH_TERM=PREFIX: it sends SIGTERM to the installer (its parent) first, as a Ctrl-C or a kill would.
// - node: `-e SCRIPT` runs the real Node.js (the installers read config.json with it), except the installer's
//   test-load of the app's native module, which answers as FAKE_NODE_LOADS says; -p / -v answer FAKE_NODE_VERSION.
//
// `trace: true` (the security tests, secrets.test.ts): every system tool is a small script that writes its command line
// to $base/argv.log before it runs the real one — what any local user could read in /proc/PID/cmdline while it runs —
// and `chmod` also writes the mode each path had just before (`before-chmod MODE PATH`): a file or directory created
// open to others and tightened only afterwards shows here: the moment another user could have used it.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TOOLS = ['sh', 'sed', 'head', 'base64', 'tr', 'cp', 'mv', 'rm', 'mkdir', 'chmod', 'cat', 'dirname', 'id', 'grep', 'ls', 'env', 'readlink', 'stat'];

export interface Sandbox {
  base: string;
  root: string;
  src: string;
  bin: string;
  log: string;
  run(script: string, args?: string[], env?: Record<string, string>, opts?: RunOptions): { code: number | null; out: string; err: string };
  calls(): string[];
  clear(): void;
  close(): void;
  /** The timeline lines since the last clear (see above). */
  timeline(): string[];
  /** The version of the app the fake service runs (null: not running). */
  running(): string | null;
  /** The version of the app installed under the root (null: none). */
  installed(): string | null;
  /** Make the release a new version: package.json, the views, and (Plesk) its zip. */
  release(version: string): void;
  /** trace: the command lines of the system tools run since the last clear (and `before-chmod MODE PATH` lines). */
  argv(): string[];
  /** The systemctl calls since the last clear, each with who held 127.0.0.1:8080 after it (see above). */
  ports(): string[];
  /** Who holds 127.0.0.1:8080 now: mailhealth.socket, a service bound to it itself, or nobody (null). */
  portHolder(): 'socket' | 'service' | 'other' | null;
  /**
   * Sets who holds 127.0.0.1:8080: `service` as an older standalone install's running service did, `other` another
   * program (the fake socket cannot start then), null nobody. The socket is then not listening.
   */
  holdPort(by: 'service' | 'other' | null): void;
}

/** Options of one installer run. */
export interface RunOptions {
  /** The umask the installer starts with (octal, e.g. '000'), as the admin's shell would hand it over. */
  umask?: string;
}

function which(cmd: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.stdout.trim();
}

/** sh code a fake runs first: its line in the call log and the timeline, then MH_TERM / MH_FAIL. */
function prologue(name: string, logged: string): string {
  // The timeline only inside a sandbox run (a test may run the installed wrapper with just PATH and MH_LOG): never a
  // path outside the sandbox.
  return `line="${name} ${logged}"
echo "$line" >> "$MH_LOG"
app=""
if [ -n "\${MAILHEALTH_ROOT:-}" ] && [ -n "\${MH_BASE:-}" ]; then
  app=$(sed -n 's/.*"version": *"\\([^"]*\\)".*/\\1/p' "$MAILHEALTH_ROOT/usr/local/mailhealth/package.json" 2>/dev/null)
  svc=$(cat "$MH_BASE/service" 2>/dev/null)
  echo "$line | service=\${svc:--} app=\${app:--}" >> "$MH_BASE/timeline"
fi
if [ -n "\${MH_TERM:-}" ]; then case "$line" in "$MH_TERM"*) kill -TERM $PPID ;; esac; fi
if [ -n "\${MH_FAIL:-}" ]; then case "$line" in "$MH_FAIL"*) echo "$line: failed (test)" >&2; exit 1 ;; esac; fi
`;
}

/** The shells a test may run the installers with (sandbox's `shell`): those installed here (dash: Debian's sh; bash: RHEL's, so cPanel's and most Plesk servers'). */
export const SHELLS = ['dash', 'bash'].filter((sh) => which(sh) !== '');

/** `shell`: the shell that runs the installers (default `sh`). */
export function sandbox(opts: { shell?: string; trace?: boolean } = {}): Sandbox {
  const base = mkdtempSync(join(tmpdir(), 'mailhealth-install-'));
  const root = join(base, 'root');
  const src = join(base, 'release');
  const bin = join(base, 'fakebin');
  const tools = join(base, 'tools');
  const log = join(base, 'calls.log');
  mkdirSync(root);
  mkdirSync(bin);
  mkdirSync(tools);
  const argvLog = join(base, 'argv.log');
  writeFileSync(log, '');
  writeFileSync(join(base, 'timeline'), '');
  writeFileSync(join(base, 'ports'), '');
  writeFileSync(argvLog, '');
  // Only these system tools are visible: no real node, systemctl, plesk or cPanel scripts can be reached (the fake
  // node hands `-e` scripts to the real one by its full path).
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  for (const t of TOOLS) {
    const real = which(t === 'sh' && opts.shell ? opts.shell : t);
    if (!opts.trace) {
      symlinkSync(real, join(tools, t));
      continue;
    }
    // Shell built-ins before the exec (printf, test, for), and the real stat by its path: the trace adds no traced line.
    const modes = t === 'chmod' ? `for a in "$@"; do if [ -e "$a" ]; then ${q(which('stat'))} -c 'before-chmod %a %n' -- "$a" >> ${q(argvLog)}; fi; done\n` : '';
    writeFileSync(join(tools, t), `#!${which('sh')}\nprintf '%s\\n' "${t} $*" >> ${q(argvLog)}\n${modes}exec ${q(real)} "$@"\n`);
    chmodSync(join(tools, t), 0o755);
  }
  // A release as `npm run package` lays it out: app/ + plugin-manifests/ (+ the Plesk zip).
  mkdirSync(join(src, 'app/bin'), { recursive: true });
  mkdirSync(join(src, 'app/dist/src/cli'), { recursive: true });
  mkdirSync(join(src, 'app/views'), { recursive: true });
  mkdirSync(join(src, 'app/node_modules/express'), { recursive: true });
  mkdirSync(join(src, 'app/node_modules/better-sqlite3'), { recursive: true });
  writeFileSync(join(src, 'app/bin/mailhealth.js'), '// app entry\n');
  writeFileSync(join(src, 'app/dist/src/cli/bin.js'), '// compiled\n');
  writeFileSync(join(src, 'app/views/layout-top.ejs'), '<html>\n');
  writeFileSync(join(src, 'app/node_modules/express/package.json'), '{}\n');
  writeFileSync(join(src, 'app/package.json'), '{"name": "mailhealth", "version": "0.1.0"}\n');
  cpSync(join(REPO, 'plugin-manifests'), join(src, 'plugin-manifests'), { recursive: true });
  mkdirSync(join(src, 'release'));
  writeFileSync(join(src, 'release/mailhealth-plesk-0.1.0.zip'), 'PK fake');
  const fake = (name: string, body = '', logged = '$*') => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${prologue(name, logged)}${body}`);
    chmodSync(join(bin, name), 0o755);
  };
  // -e: a script (one line in the log: its first line only) — the native-module test-load answers FAKE_NODE_LOADS
  // (0: built for another Node ABI / glibc), anything else runs on the real Node.js.
  fake(
    'node',
    `case "$1" in
  -p) echo "\${FAKE_NODE_VERSION:-20.11.1}" ;;
  -v) echo "v\${FAKE_NODE_VERSION:-20.11.1}" ;;
  -e) case "$3" in
        */better-sqlite3) [ "\${FAKE_NODE_LOADS:-1}" = 1 ] || exit 1 ;;
        *) exec '${process.execPath.replace(/'/g, `'\\''`)}' "$@" ;;
      esac ;;
esac
`,
    '$(case "$1" in -e) echo "-e …" ;; *) echo "$*" ;; esac)',
  );
  fake(
    'systemctl',
    `[ -n "\${MH_BASE:-}" ] && [ -n "\${MAILHEALTH_ROOT:-}" ] || exit 0
unit="$MAILHEALTH_ROOT/etc/systemd/system/mailhealth.service"
socket="$MAILHEALTH_ROOT/etc/systemd/system/mailhealth.socket"
for name in "$@"; do :; done
verb=$1
if [ "$1 $2" = "disable --now" ]; then verb=stop; fi
holder() { if [ -f "$MH_BASE/socket" ]; then echo socket; elif [ -f "$MH_BASE/own-port" ]; then cat "$MH_BASE/own-port"; else echo -; fi; }
trap 'echo "$line | port=$(holder)" >> "$MH_BASE/ports"' EXIT
on_socket() { grep -q '^Requires=mailhealth.socket$' "$unit"; }
stop_service() {
  rm -f "$MH_BASE/service"
  if [ "$(cat "$MH_BASE/own-port" 2>/dev/null)" = service ]; then rm -f "$MH_BASE/own-port"; fi
}
start_socket() {
  [ -f "$socket" ] || { echo "Unit mailhealth.socket not found." >&2; exit 5; }
  [ -f "$MH_BASE/socket" ] && return 0
  if [ -f "$MH_BASE/own-port" ]; then echo "mailhealth.socket: Failed to listen on 127.0.0.1:8080: Address already in use ($(cat "$MH_BASE/own-port"))" >&2; exit 1; fi
  : > "$MH_BASE/socket"
}
start_service() {
  if on_socket; then
    start_socket
  elif grep -q -- '--port 8080' "$unit"; then
    if [ "$(holder)" != - ]; then echo "mailhealth.service: listen EADDRINUSE 127.0.0.1:8080 ($(holder))" >&2; exit 1; fi
    echo service > "$MH_BASE/own-port"
  fi
  echo "$app" > "$MH_BASE/service"
}
case "$verb $name" in
  "stop mailhealth.socket")
    [ -f "$socket" ] || exit 5
    if [ -f "$unit" ] && on_socket; then stop_service; fi
    rm -f "$MH_BASE/socket" ;;
  "start mailhealth.socket") start_socket ;;
  "restart mailhealth.socket")
    [ -f "$socket" ] || exit 5
    rm -f "$MH_BASE/socket"
    echo "$line (closed) | port=$(holder)" >> "$MH_BASE/ports"
    start_socket ;;
  "is-active mailhealth.socket") [ -f "$MH_BASE/socket" ] || exit 3 ;;
  "stop "*) [ -f "$unit" ] || exit 5; stop_service ;;
  "restart "*|"start "*) [ -f "$unit" ] || exit 5; stop_service; start_service ;;
  "is-active "*) [ -f "$MH_BASE/service" ] || exit 3 ;;
esac
`,
  );
  fake('install_plugin');
  fake('uninstall_plugin');
  fake('register_appconfig');
  fake('unregister_appconfig');
  fake(
    'plesk',
    `state="$MH_BASE/plesk-extensions"
case "$2 $3" in
  "extension --list") [ -f "$state" ] && cat "$state"; exit 0 ;;
  "extension -i"|"extension --upgrade") echo "mailhealth  Mail Health  0.1.0-1  enabled" > "$state" ;;
  "extension --uninstall") rm -f "$state" ;;
  "secret_key --create") echo "c5b239d1-8eb6-8cee-76b7-aa16be37fee8" ;;
esac
`,
  );
  const read = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8').trim() || null : null);
  return {
    base,
    root,
    src,
    bin,
    log,
    run(script, args = [], env = {}, runOpts = {}) {
      // With a umask: the shell sets it, then runs the installer in its place (exec), as an admin's login shell would.
      const argv = runOpts.umask === undefined ? [join(REPO, 'install', script), ...args] : ['-c', `umask ${runOpts.umask} && exec "$0" "$@"`, join(REPO, 'install', script), ...args];
      const r = spawnSync(join(tools, 'sh'), argv, {
        encoding: 'utf8',
        env: {
          PATH: `${bin}:${tools}`,
          MAILHEALTH_ROOT: root,
          MAILHEALTH_SRC: src,
          MH_LOG: log,
          MH_BASE: base,
          SYSTEMCTL: join(bin, 'systemctl'),
          INSTALL_PLUGIN: join(bin, 'install_plugin'),
          UNINSTALL_PLUGIN: join(bin, 'uninstall_plugin'),
          REGISTER_APPCONFIG: join(bin, 'register_appconfig'),
          UNREGISTER_APPCONFIG: join(bin, 'unregister_appconfig'),
          PLESK_BIN: join(bin, 'plesk'),
          ...env,
        },
      });
      return { code: r.status, out: r.stdout, err: r.stderr };
    },
    calls: () => readFileSync(log, 'utf8').split('\n').filter((l) => l && !l.startsWith('node ')),
    clear: () => {
      writeFileSync(log, '');
      writeFileSync(join(base, 'timeline'), '');
      writeFileSync(join(base, 'ports'), '');
      writeFileSync(argvLog, '');
    },
    ports: () => readFileSync(join(base, 'ports'), 'utf8').split('\n').filter(Boolean),
    portHolder: () => (existsSync(join(base, 'socket')) ? 'socket' : (read(join(base, 'own-port')) as 'service' | 'other' | null)),
    holdPort(by) {
      rmSync(join(base, 'socket'), { force: true });
      if (by === null) rmSync(join(base, 'own-port'), { force: true });
      else writeFileSync(join(base, 'own-port'), `${by}\n`);
    },
    argv: () => readFileSync(argvLog, 'utf8').split('\n').filter(Boolean),
    close: () => rmSync(base, { recursive: true, force: true }),
    timeline: () => readFileSync(join(base, 'timeline'), 'utf8').split('\n').filter((l) => l && !l.startsWith('node ')),
    running: () => read(join(base, 'service')),
    installed: () => {
      const p = join(root, 'usr/local/mailhealth/package.json');
      return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version : null;
    },
    release(version) {
      writeFileSync(join(src, 'app/package.json'), `{"name": "mailhealth", "version": "${version}"}\n`);
      writeFileSync(join(src, 'app/views/layout-top.ejs'), `<html data-version="${version}">\n`);
      writeFileSync(join(src, `release/mailhealth-plesk-${version}.zip`), 'PK fake');
    },
  };
}
