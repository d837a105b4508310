// Without --config the CLI reads the installed config when it exists and is readable (root on an installed server),
// else nothing: a missing file is no error, and flags still win over the file.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultConfig } from '../../src/cli/context.js';

test('defaultConfig: the file when it exists, {} when it does not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailhealth-defcfg-'));
  try {
    const path = join(dir, 'config.json');
    assert.deepEqual(defaultConfig(path), {});
    writeFileSync(path, JSON.stringify({ panel: 'whm', panelUrl: 'https://127.0.0.1:2087' }));
    assert.deepEqual(defaultConfig(path), { panel: 'whm', panelUrl: 'https://127.0.0.1:2087' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
