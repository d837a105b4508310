// The CLI's one log helper (src/cli/log.ts): every line escaped as record text is (safe), so outside text in a message
// can neither drive the terminal nor start a line of its own; an unexpected error's stack keeps its frames.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorLines, lineLog, logLine } from '../../src/cli/log.js';

const HOSTILE = '\x1b[2J\x1b[31mFORGED\nmailhealth: all good';

test('the log helper: one escaped line a message; a stack keeps its frames, its message stays on its line', () => {
  assert.equal(logLine(HOSTILE), 'mailhealth: \\x1b[2J\\x1b[31mFORGED\\x0amailhealth: all good\n');
  const lines: string[] = [];
  lineLog((s) => void lines.push(s), 'mailhealth cgi')('bidi \u202E here');
  assert.deepEqual(lines, ['mailhealth cgi: bidi \\u202E here\n']);
  const e = new Error(HOSTILE);
  const out = errorLines(e, 'mailhealth cgi').split('\n');
  assert.equal(out[0], 'mailhealth cgi: Error: \\x1b[2J\\x1b[31mFORGED\\x0amailhealth: all good');
  assert.ok(out.slice(1, -1).length > 0 && out.slice(1, -1).every((l) => /^\s+at /.test(l)), out.join('\n'));
  assert.ok(!out.join('\n').includes('\x1b'));
  assert.ok(!out.some((l) => l.startsWith('mailhealth: all good')));
});

