// npm run package → release/mailhealth-cpanel-<version>.tar.gz and release/mailhealth-plesk-<version>.zip.
//   1. npm run build (tsc → dist/), plus the data files under src/ (JSON, demo zones) beside the compiled modules.
//   2. a staging app: dist/src, views/, bin/, package.json and the production dependencies copied from node_modules
//      (the closure `npm ls --omit=dev` reports; no network). Native modules (better-sqlite3) are the ones built for
//      THIS machine: build the release on the target platform with Node 20 (linux-x64, glibc).
//   3. the cPanel/WHM tarball: app/, install/, plugin-manifests/, README.md under mailhealth-cpanel-<version>/.
//   4. the Plesk extension zip (for `plesk bin extension -i`): meta.xml, htdocs/, plib/ (+ plib/app = the app),
//      sbin/mailhealth-v1 (mode 0755), _meta/. Written by scripts/zip.mjs (no `zip` tool needed).
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { walk, writeZip } from './zip.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const version = pkg.version;
const RELEASE = join(ROOT, 'release');
const STAGE = join(RELEASE, 'stage');
const log = (m) => process.stderr.write(`package: ${m}\n`);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

if (!process.argv.includes('--no-build')) {
  log('npm run build');
  rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
  execFileSync(npm, ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
}
// Data files next to the compiled modules: JSON (tsc emits only imported JSON) and anything else that is not
// TypeScript (the demo world's zone files, read at run time).
for (const [rel, abs] of walk(join(ROOT, 'src'))) {
  if (!rel.endsWith('.ts')) {
    const out = join(ROOT, 'dist/src', rel);
    mkdirSync(dirname(out), { recursive: true });
    cpSync(abs, out);
  }
}
if (!existsSync(join(ROOT, 'dist/src/cli/bin.js'))) throw new Error('dist/src/cli/bin.js missing after the build');

rmSync(STAGE, { recursive: true, force: true });
const APP = join(STAGE, 'app');
mkdirSync(APP, { recursive: true });
cpSync(join(ROOT, 'dist/src'), join(APP, 'dist/src'), { recursive: true, filter: (p) => !p.endsWith('.map') });
cpSync(join(ROOT, 'views'), join(APP, 'views'), { recursive: true });
cpSync(join(ROOT, 'bin'), join(APP, 'bin'), { recursive: true });
const appPkg = { name: pkg.name, version, description: pkg.description, type: pkg.type, license: pkg.license, engines: pkg.engines, bin: pkg.bin, dependencies: pkg.dependencies };
writeFileSync(join(APP, 'package.json'), JSON.stringify(appPkg, null, 2) + '\n');

// Production dependency closure, from the installed tree (offline).
const listed = execFileSync(npm, ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  .split('\n')
  .map((l) => l.trim())
  .filter(Boolean);
const nm = join(ROOT, 'node_modules') + sep;
const top = new Set();
for (const p of listed) {
  if (!p.startsWith(nm)) continue;
  const parts = relative(join(ROOT, 'node_modules'), p).split(sep);
  top.add(parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]);
}
for (const name of [...top].sort()) {
  cpSync(join(ROOT, 'node_modules', name), join(APP, 'node_modules', name), { recursive: true, filter: (p) => !p.includes(`${sep}.bin`) });
}
log(`${top.size} production packages`);

mkdirSync(RELEASE, { recursive: true });

// cPanel & WHM tarball (also carries the standalone and Plesk installers).
const cpName = `mailhealth-cpanel-${version}`;
const CP = join(STAGE, cpName);
mkdirSync(CP, { recursive: true });
cpSync(APP, join(CP, 'app'), { recursive: true });
cpSync(join(ROOT, 'install'), join(CP, 'install'), { recursive: true, filter: (p) => !p.endsWith('.gitkeep') });
cpSync(join(ROOT, 'plugin-manifests'), join(CP, 'plugin-manifests'), { recursive: true, filter: (p) => !p.endsWith('.gitkeep') });
cpSync(join(ROOT, 'README.md'), join(CP, 'README.md'));
const tarball = join(RELEASE, `${cpName}.tar.gz`);
execFileSync('tar', ['-czf', tarball, '--owner=0', '--group=0', '-C', STAGE, cpName]);
log(`wrote ${relative(ROOT, tarball)} (${(statSync(tarball).size / 1048576).toFixed(1)} MiB)`);

// Plesk extension zip.
const PL = join(ROOT, 'plugin-manifests/plesk');
const entries = walk(PL).filter(([rel]) => !rel.endsWith('.gitkeep'));
for (const [rel, abs, mode] of walk(APP)) entries.push([`plib/app/${rel}`, abs, mode]);
for (const e of entries) if (e[0] === 'sbin/mailhealth-v1') e[2] = 0o755;
const zip = join(RELEASE, `mailhealth-plesk-${version}.zip`);
writeZip(zip, entries);
log(`wrote ${relative(ROOT, zip)} (${entries.length} files, ${(statSync(zip).size / 1048576).toFixed(1)} MiB)`);
if (!process.argv.includes('--keep-stage')) rmSync(STAGE, { recursive: true, force: true });
