// `serve --help` showed no range for --port while `demo --help` did: both say what the option takes, alike.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';

test('serve --help and demo --help describe --port alike, with its range', async () => {
  for (const cmd of ['serve', 'demo']) {
    const r = await runCli([cmd, '--help']);
    assert.equal(r.code, 0, r.stderr);
    // The help is wrapped to the terminal's width: compare the words.
    assert.match(r.stdout.replace(/\s+/g, ' '), /--port <n> web UI port, 0-65535 \(0: any free port\) \(default: "8080"\)/, cmd);
  }
});
