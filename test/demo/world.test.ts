// The demo's working copy of the panel (src/demo/world.ts): made fresh for each start, served on loopback, and gone
// after close — `npm start` run again and again leaves nothing behind in the temp directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_PANEL_DIR, startDemo } from '../../src/demo/world.js';

test('startDemo works on a copy of the shipped panel, and close() removes the copy (the shipped panel stays)', async () => {
  const demo = await startDemo();
  let closed = false;
  try {
    assert.notEqual(demo.panelDir, DEMO_PANEL_DIR);
    assert.ok(existsSync(join(demo.panelDir, 'panel.json')));
    // A fix changes the copy only.
    writeFileSync(join(demo.panelDir, 'mailhealth.sqlite'), 'history of this run');
    assert.ok(!existsSync(join(DEMO_PANEL_DIR, 'mailhealth.sqlite')));
    await demo.close();
    closed = true;
    assert.ok(!existsSync(demo.panelDir), `${demo.panelDir} is left behind`);
    assert.ok(existsSync(join(DEMO_PANEL_DIR, 'panel.json')));
    assert.ok(readFileSync(join(DEMO_PANEL_DIR, 'panel.json'), 'utf8').length > 0);
  } finally {
    if (!closed) await demo.close();
  }
});

test('startDemo on a panel directory of the caller (fresh: false) leaves that directory alone on close()', async () => {
  const copy = await startDemo();
  try {
    const demo = await startDemo({ panelDir: copy.panelDir, fresh: false });
    assert.equal(demo.panelDir, copy.panelDir);
    await demo.close();
    assert.ok(existsSync(join(copy.panelDir, 'panel.json')));
  } finally {
    await copy.close();
  }
});
