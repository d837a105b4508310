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
