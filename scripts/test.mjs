// Runs every test/**/*.test.ts with Node's test runner (Node 20's --test takes no globs).
//
// First it compiles the project once (`tsc`, strict: the type check `npm test` begins with) into a scratch build under
// test-artifacts/, and hands its path to the tests as MAILHEALTH_TEST_BUILD: the tests that run `mailhealth` (or a fake
// panel tool) as a child process start the compiled JavaScript instead of the TypeScript through tsx — about half a
// second less per child, and the suite starts several hundred. The build is of the same working tree, made at the
// start of the run, and removed at its end.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
const args = process.argv.slice(2);
const wholeSuite = args.length === 0;
const files = (args.length ? args : ['test']).flatMap((a) => (statSync(a).isDirectory() ? find(a) : [a]));

// A scratch directory per run (runs may overlap), world-readable (a test runs the CLI as another user), inside the
// checkout so the build finds node_modules; removed at the end.
const build = join(ROOT, 'test-artifacts', `build-${process.pid}-${Date.now()}`);
const scratch = join(tmpdir(), `mailhealth-test-run-${process.pid}-${Date.now()}`);
mkdirSync(scratch, { recursive: true, mode: 0o700 });
const cleanup = () => {
  rmSync(scratch, { recursive: true, force: true });
  rmSync(build, { recursive: true, force: true });
};
// Removed however the run ends: a signal during the build or the tests (forwarded to the test runner once it runs), an
// exception while copying the data files.
let child = null;
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (child) child.kill(sig);
    else process.exit(1);
  });
}

let buildOk = false;
if (process.env.MAILHEALTH_TEST_BUILD) {
  buildOk = true; // given by the caller, who type-checked it (npm test's type check is this script's build)
} else {
  const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
  const r = spawnSync(tsc, ['-p', join(ROOT, 'tsconfig.json'), '--outDir', build, '--sourceMap', 'false'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    if (wholeSuite) {
      process.stderr.write('npm test: the type check failed (above); no test was run\n');
      process.exit(1);
    }
    // A few files named: run them from the TypeScript sources (another part of the tree may be mid-edit).
    process.stderr.write('scripts/test.mjs: the build failed (above); child processes run the sources through tsx\n');
  } else {
    // What the compiled modules read beside themselves: non-TypeScript files under src/ (the demo panel and world,
    // JSON that is not imported) and views/ at the project root (found from src/web as ../../views).
    const copyData = (dir) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) copyData(p);
        else if (!name.endsWith('.ts')) {
          const out = join(build, relative(ROOT, p));
          if (!existsSync(out)) {
            mkdirSync(dirname(out), { recursive: true });
            cpSync(p, out);
          }
        }
      }
    };
    copyData(join(ROOT, 'src'));
    symlinkSync(join(ROOT, 'views'), join(build, 'views'));
    buildOk = true;
  }
}

// A service or root front door started by a test publishes the shared settings (src/cli/shared-settings.ts): into a
// temp dir, never /etc.
const env = { ...process.env, MAILHEALTH_SHARED_SETTINGS: process.env.MAILHEALTH_SHARED_SETTINGS || join(scratch, 'shared-settings.json') };
if (buildOk && !process.env.MAILHEALTH_TEST_BUILD) env.MAILHEALTH_TEST_BUILD = build;
child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], { stdio: 'inherit', env });
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal ? 1 : 0));
});
