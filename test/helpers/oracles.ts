// The independent judges of the end-to-end tests (test/e2e/*-oracles.test.ts): a python3 with Debian's pyspf, dkimpy
// and dnspython, or why there is none — those tests then skip with that message, as the browser tests skip without
// Chromium (.ci/run installs the packages).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

const MODULES: [module: string, pkg: string][] = [
  ['spf', 'python3-spf'],
  ['dkim', 'python3-dkim'],
  ['dns.resolver', 'python3-dnspython'],
];

/**
 * The python3 with every judge's module — MAILHEALTH_ORACLE_PYTHON when set, else `python3` on the PATH, then
 * /usr/bin/python3 (a pyenv python3 first on the PATH does not see Debian's packages) — or why there is none (the
 * packages the first python3 that runs lacks).
 */
export function findPython(): { python: string } | { skip: string } {
  let missing: string[] | null = null;
  const tried = process.env.MAILHEALTH_ORACLE_PYTHON ? [process.env.MAILHEALTH_ORACLE_PYTHON] : ['python3', '/usr/bin/python3'];
  for (const python of tried) {
    if (spawnSync(python, ['-c', ''], { stdio: 'ignore' }).status !== 0) continue;
    const lacks = MODULES.filter(([m]) => spawnSync(python, ['-c', `import ${m}`], { stdio: 'ignore' }).status !== 0).map(([, p]) => p);
    if (lacks.length === 0) return { python };
    missing ??= lacks;
  }
  const all = MODULES.map(([, p]) => p).join(' ');
  return { skip: `${missing ? `python3 lacks ${missing.join(', ')}` : `no python3 runs (tried ${tried.join(', ')})`} (apt-get install ${all}); .ci/run installs them` };
}

/**
 * The perl that loads every one of `modules` — MAILHEALTH_ORACLE_PERL when set, else `perl` on the PATH, then
 * /usr/bin/perl (a perlbrew perl first on the PATH does not see Debian's modules) — or why there is none, naming `lib`
 * and the Debian package `pkg` that brings it.
 */
function findPerlWith(modules: readonly string[], lib: string, pkg: string): { perl: string } | { skip: string } {
  const tried = process.env.MAILHEALTH_ORACLE_PERL ? [process.env.MAILHEALTH_ORACLE_PERL] : ['perl', '/usr/bin/perl'];
  let runs = false;
  for (const perl of tried) {
    if (spawnSync(perl, ['-e', '1'], { stdio: 'ignore' }).status !== 0) continue;
    runs = true;
    if (spawnSync(perl, [...modules.map((m) => `-M${m}`), '-e', '1'], { stdio: 'ignore' }).status === 0) return { perl };
  }
  return { skip: `${runs ? `perl lacks ${lib}` : `no perl runs (tried ${tried.join(', ')})`} (apt-get install ${pkg}); .ci/run installs it` };
}

/** The perl with Debian's Mail::DMARC (libmail-dmarc-perl, which brings Net::DNS and the public suffix list): what test/fixtures/oracles/dmarc-judge.pl loads. */
export function findPerlDmarc(): { perl: string } | { skip: string } {
  return findPerlWith(['Mail::DMARC::PurePerl', 'Mail::DMARC::Policy', 'Net::DNS::Resolver', 'JSON::PP', 'File::ShareDir'], 'Mail::DMARC', 'libmail-dmarc-perl');
}

/** The perl with Debian's Mail::SPF (libmail-spf-perl, which brings Net::DNS and NetAddr::IP): what spf-judge.pl loads. */
export function findPerlSpf(): { perl: string } | { skip: string } {
  return findPerlWith(['Mail::SPF', 'Mail::SPF::Server', 'Mail::SPF::Request', 'Net::DNS::Resolver', 'JSON::PP'], 'Mail::SPF', 'libmail-spf-perl');
}

/** The perl with Debian's Mail::DKIM (libmail-dkim-perl, with Net::DNS and Crypt::OpenSSL::RSA): what dkim-judge.pl loads. */
export function findPerlDkim(): { perl: string } | { skip: string } {
  return findPerlWith(['Mail::DKIM', 'Mail::DKIM::Signer', 'Mail::DKIM::Verifier', 'Mail::DKIM::DNS', 'Crypt::OpenSSL::RSA', 'Net::DNS::Resolver', 'JSON::PP'], 'Mail::DKIM', 'libmail-dkim-perl');
}

const OPENDMARC_INSTALL = 'apt-get install gcc libopendmarc-dev; .ci/run installs them';

/**
 * An OpenDMARC judge (a C file of test/fixtures/oracles/, `source`) compiled with gcc against libopendmarc into a temp
 * dir — the test removes `dir` in its after() — or why there is none; `what` names the judge in that message.
 */
export function buildOpenDmarcJudge(source: string, what: string): { bin: string; dir: string } | { skip: string } {
  if (spawnSync('gcc', ['--version'], { stdio: 'ignore' }).status !== 0) return { skip: `no gcc runs (${OPENDMARC_INSTALL})` };
  if (!existsSync('/usr/include/opendmarc/dmarc.h')) return { skip: `no libopendmarc headers at /usr/include/opendmarc (${OPENDMARC_INSTALL})` };
  const name = basename(source, '.c');
  const dir = mkdtempSync(join(tmpdir(), `mh-${name}-`));
  const bin = join(dir, name);
  const cc = spawnSync('gcc', ['-O1', '-o', bin, '-I/usr/include/opendmarc', source, '-lopendmarc'], { encoding: 'utf8' });
  if (cc.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `gcc could not build the ${what} against libopendmarc (${OPENDMARC_INSTALL}): ${cc.stderr.trim().split('\n')[0]}` };
  }
  return { bin, dir };
}

/**
 * Runs a judge that reads one JSON request a line on stdin and writes one JSON answer a line (the Perl judges in
 * test/fixtures/oracles/): its answers, in order — rejected when it exits non-zero or answers another number of lines.
 * `onSpawn` sees the process (a test's after() can then end judges still running: verdict-world.ts trackJudge).
 */
export function runLinesJudge<T>(command: string, script: string, items: readonly object[], onSpawn?: (child: ChildProcess) => void): Promise<T[]> {
  const name = script.split('/').pop();
  return new Promise((resolve, reject) => {
    const child = spawn(command, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    onSpawn?.(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (err += String(d)));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${name} exited ${code}:\n${err}`));
      const answers = out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as T);
      if (answers.length !== items.length) return reject(new Error(`${name} answered ${answers.length} of ${items.length}:\n${err}`));
      resolve(answers);
    });
    child.stdin.end(items.map((x) => JSON.stringify(x)).join('\n') + '\n');
  });
}
