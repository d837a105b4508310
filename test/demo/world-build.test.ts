// The demo from a checkout's `npm run build` (README "CLI": `npm run build`, then `node bin/mailhealth.js`): tsc writes
// the compiled modules to dist/src but none of the demo's data files, so the compiled demo module sits in
// dist/src/demo with no panel/ or world/ beside it. It must find the sources' copy (src/demo/panel, src/demo/world);
// it looked only beside itself and `mailhealth demo` stopped on ENOENT for dist/src/demo/panel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SRC = join(REPO, 'src');
const DATA = [join(SRC, 'demo', 'panel'), join(SRC, 'demo', 'world')];

/**
 * A checkout laid out as after `npm run build`: the modules under dist/src (here the TypeScript itself, run through
 * tsx as the tests run everything) without the demo's data directories, which stay in src/demo only.
 */
function builtCheckout(): string {
  const root = mkdtempSync(join(tmpdir(), 'mh-demo-build-'));
  cpSync(SRC, join(root, 'dist', 'src'), { recursive: true, filter: (p) => !DATA.some((d) => p === d || p.startsWith(d + sep)) });
  for (const d of DATA) cpSync(d, join(root, relative(REPO, d)), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
  return root;
}

test('compiled into dist/src without the data files, the demo finds src/demo/panel and src/demo/world and starts', { timeout: 60_000 }, async (t) => {
  const root = builtCheckout();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.ok(!existsSync(join(root, 'dist', 'src', 'demo', 'panel')), 'the layout has no panel beside the module');
  const world = (await import(pathToFileURL(join(root, 'dist', 'src', 'demo', 'world.ts')).href)) as typeof import('../../src/demo/world.js');
  assert.equal(world.DEMO_PANEL_DIR, join(root, 'src', 'demo', 'panel'));
  assert.equal(world.DEMO_WORLD_DIR, join(root, 'src', 'demo', 'world'));
  const demo = await world.startDemo();
  try {
    assert.ok(existsSync(join(demo.panelDir, 'panel.json')), 'the working copy holds the shipped panel');
    // The outside world's zones (src/demo/world) are what the demo's DNS serves beside the panel's.
    assert.deepEqual(world.buildWorld(demo.panelDir)['relay.mailchannels.net']?.TXT, [['v=spf1 ip4:23.83.208.0/20 ip4:205.201.128.0/20 ~all']]);
  } finally {
    await demo.close();
  }
});

test('demoDataDir: beside the module when it is there (tsx, a release), else the sources under the checkout', async (t) => {
  const { demoDataDir } = await import('../../src/demo/world.js');
  const root = mkdtempSync(join(tmpdir(), 'mh-demo-dirs-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const built = join(root, 'dist', 'src', 'demo');
  mkdirSync(built, { recursive: true });
  mkdirSync(join(root, 'src', 'demo', 'panel'), { recursive: true });
  assert.equal(demoDataDir(built, 'panel'), join(root, 'src', 'demo', 'panel'));
  // A release: the package script copied the data beside the compiled module — that copy wins.
  mkdirSync(join(built, 'panel'));
  assert.equal(demoDataDir(built, 'panel'), join(built, 'panel'));
  // Neither there: the path beside the module (an error then names where a release holds it).
  assert.equal(demoDataDir(built, 'world'), join(built, 'world'));
});
