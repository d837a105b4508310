// `explain FILE` read the whole file into memory before the size check (a 200 MB file peaked at ~526 MB; a FIFO or
// /dev/zero grew without limit). It reads at most MAX_BOUNCE_BYTES + 1 bytes: a stream that never ends is refused as
// too large as soon as that much has come, and the messages for too large / empty / binary / missing / directory stay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants, mkdirSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_BOUNCE_BYTES } from '../../src/core/bounce/parse.js';
import { cli, errorOf, sandbox } from './fixtures/run-cli.js';

const TOO_LARGE = `the input is too large (over ${MAX_BOUNCE_BYTES / 1024} KiB): paste only the error part of the bounce`;

test('explain FILE: a FIFO that never ends is refused as too large once MAX_BOUNCE_BYTES + 1 bytes are in', { timeout: 60_000 }, async (t) => {
  const s = sandbox(t, 'mh-explain-fifo-');
  const fifo = join(s.dir, 'bounce.fifo');
  execFileSync('mkfifo', [fifo]);
  // The writer keeps the FIFO open and writes until the reader goes away: there is no end of file. Reading it whole
  // (the old readFileSync) waits forever — the child is killed at the timeout (code null).
  let stop = false;
  const writer = (async () => {
    const fh = await open(fifo, 'w');
    const chunk = Buffer.alloc(16 * 1024, 'x');
    try {
      while (!stop) await fh.write(chunk);
    } catch {
      // EPIPE: the reader has what it wanted and closed its end.
    } finally {
      await fh.close().catch(() => undefined);
    }
  })();
  const r = await cli(['explain', fifo, '--json'], { timeout: 20_000 });
  stop = true;
  // Should the reader not have opened the FIFO, the writer waits in open(): a reader that does not block lets it go
  // on, and closing that reader ends its writes (EPIPE).
  await (await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK)).close();
  await writer;
  assert.equal(r.code, 2, `exit 2, not killed at the timeout: ${r.stderr}`);
  assert.deepEqual(errorOf(r.stdout), { kind: 'usage', message: TOO_LARGE });
});

test('explain FILE: the limit in bytes, with the existing messages for the other bad inputs', { timeout: 90_000 }, async (t) => {
  const s = sandbox(t, 'mh-explain-file-');
  // Names no sender domain: only the code is explained (no panel, no DNS).
  const bounce = '550 5.7.26 This mail has been blocked because the sender is unauthenticated.\n';
  const run = async (name: string, content: Buffer | string | null): Promise<{ code: number | null; message: string }> => {
    const path = join(s.dir, name);
    if (content !== null) writeFileSync(path, content);
    const r = await cli(['explain', path, '--json']);
    return { code: r.code, message: r.code === 2 ? errorOf(r.stdout).message : '' };
  };
  // Exactly MAX_BOUNCE_BYTES: read and explained (the padding is blank lines after the reply).
  const exact = Buffer.alloc(MAX_BOUNCE_BYTES, '\n');
  exact.write(bounce);
  const ok = await run('exact.txt', exact);
  assert.equal(ok.code, 0, ok.message);
  // One byte more: too large — also when that byte cuts a multi-byte character.
  const over = Buffer.alloc(MAX_BOUNCE_BYTES + 1, '\n');
  over.write(bounce);
  assert.deepEqual(await run('over.txt', over), { code: 2, message: TOO_LARGE });
  const cut = Buffer.concat([Buffer.alloc(MAX_BOUNCE_BYTES - 1, 'a'), Buffer.from('€')]); // 2 bytes past the limit, cut after 1
  assert.deepEqual(await run('cut.txt', cut), { code: 2, message: TOO_LARGE });
  // A large file (8 MiB) gets the same answer.
  assert.deepEqual(await run('large.txt', Buffer.alloc(8 * 1024 * 1024, 'a')), { code: 2, message: TOO_LARGE });
  assert.deepEqual(await run('empty.txt', ''), { code: 2, message: 'the input is empty: paste the bounce message or the SMTP error (e.g. "550 5.7.26 …")' });
  assert.deepEqual(await run('binary.dat', Buffer.alloc(10_000, 0)), { code: 2, message: 'the input looks like binary data, not a bounce message: paste the text of the bounce' });
  const missing = await run('missing.txt', null);
  assert.equal(missing.code, 2);
  assert.match(missing.message, /^cannot read .*missing\.txt: ENOENT: no such file or directory/);
  mkdirSync(join(s.dir, 'adir'));
  const dir = await cli(['explain', join(s.dir, 'adir'), '--json']);
  assert.equal(dir.code, 2, dir.stderr);
  assert.match(errorOf(dir.stdout).message, /^cannot read .*adir: EISDIR: illegal operation on a directory/);
});
