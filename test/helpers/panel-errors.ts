// Shared by the panel adapter tests: assert that a call rejects with a PanelError of the given code (and message).
import assert from 'node:assert/strict';
import { PanelError } from '../../src/core/panel.js';

export async function rejectsWith(p: Promise<unknown>, code: PanelError['code'], re?: RegExp): Promise<PanelError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PanelError, `expected PanelError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return e;
  }
  assert.fail(`expected PanelError(${code})`);
}
