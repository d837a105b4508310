// The independent judges of the end-to-end tests (test/e2e/*-oracles.test.ts): a python3 with Debian's pyspf, dkimpy
// and dnspython, or why there is none — those tests then skip with that message, as the browser tests skip without
// Chromium (.ci/run installs the packages).
import { spawnSync } from 'node:child_process';

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

/** What the DMARC judge (test/fixtures/oracles/dmarc-judge.pl) loads: Mail::DMARC and JSON::PP (Perl's own). */
const PERL_MODULES = ['Mail::DMARC::PurePerl', 'Mail::DMARC::Policy', 'Net::DNS::Resolver', 'JSON::PP', 'File::ShareDir'];

/**
 * The perl with Debian's Mail::DMARC (libmail-dmarc-perl, which brings Net::DNS and the public suffix list) —
 * MAILHEALTH_ORACLE_PERL when set, else `perl` on the PATH, then /usr/bin/perl (a perlbrew perl first on the PATH does
 * not see Debian's modules) — or why there is none.
 */
export function findPerlDmarc(): { perl: string } | { skip: string } {
  const tried = process.env.MAILHEALTH_ORACLE_PERL ? [process.env.MAILHEALTH_ORACLE_PERL] : ['perl', '/usr/bin/perl'];
  let runs = false;
  for (const perl of tried) {
    if (spawnSync(perl, ['-e', '1'], { stdio: 'ignore' }).status !== 0) continue;
    runs = true;
    if (spawnSync(perl, [...PERL_MODULES.map((m) => `-M${m}`), '-e', '1'], { stdio: 'ignore' }).status === 0) return { perl };
  }
  return { skip: `${runs ? 'perl lacks Mail::DMARC' : `no perl runs (tried ${tried.join(', ')})`} (apt-get install libmail-dmarc-perl); .ci/run installs it` };
}

/** What the second SPF judge (test/fixtures/oracles/spf-judge.pl) loads: Mail::SPF, Net::DNS and JSON::PP. */
const PERL_SPF_MODULES = ['Mail::SPF', 'Mail::SPF::Server', 'Mail::SPF::Request', 'Net::DNS::Resolver', 'JSON::PP'];

/**
 * The perl with Debian's Mail::SPF (libmail-spf-perl, which brings Net::DNS and NetAddr::IP) — MAILHEALTH_ORACLE_PERL
 * when set, else `perl` on the PATH, then /usr/bin/perl — or why there is none.
 */
export function findPerlSpf(): { perl: string } | { skip: string } {
  const tried = process.env.MAILHEALTH_ORACLE_PERL ? [process.env.MAILHEALTH_ORACLE_PERL] : ['perl', '/usr/bin/perl'];
  let runs = false;
  for (const perl of tried) {
    if (spawnSync(perl, ['-e', '1'], { stdio: 'ignore' }).status !== 0) continue;
    runs = true;
    if (spawnSync(perl, [...PERL_SPF_MODULES.map((m) => `-M${m}`), '-e', '1'], { stdio: 'ignore' }).status === 0) return { perl };
  }
  return { skip: `${runs ? 'perl lacks Mail::SPF' : `no perl runs (tried ${tried.join(', ')})`} (apt-get install libmail-spf-perl); .ci/run installs it` };
}
