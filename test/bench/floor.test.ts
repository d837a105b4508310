// The floor client (bench/floor.ts) against a UDP stub on loopback that echoes each question back as its answer (the
// floor matches ids only). The stub holds datagrams to see how many are in flight at once, and can drop some.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { fireQueries, type FloorRefill } from '../../bench/floor.js';

interface Stub {
  port: number;
  /** Most datagrams held (sent to the stub, not yet answered) at one time. */
  maxHeld(): number;
  /** Datagrams received, retries included. */
  received(): number;
  close(): Promise<void>;
}

/** Holds datagrams until `batch` are waiting (or a moment passes without more), then answers them all. */
async function echoStub(opts: { batch: number; drop?: (n: number) => boolean }): Promise<Stub> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const held: { msg: Buffer; port: number }[] = [];
  let max = 0;
  let received = 0;
  let timer: NodeJS.Timeout | null = null;
  const release = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    for (const h of held.splice(0)) sock.send(h.msg, h.port, '127.0.0.1');
  };
  sock.on('message', (msg, rinfo) => {
    received++;
    if (opts.drop?.(received)) return;
    held.push({ msg, port: rinfo.port });
    max = Math.max(max, held.length);
    if (held.length >= opts.batch) release();
    else if (!timer) timer = setTimeout(release, 5);
  });
  return {
    port: (sock.address() as AddressInfo).port,
    maxHeld: () => max,
    received: () => received,
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
}

const questions = Array.from({ length: 500 }, (_, i) => ({ name: `d${i}.example.test`, type: i % 2 ? 'MX' : 'TXT' }));

for (const refill of ['turn', 'each'] as FloorRefill[]) {
  test(`floor (${refill} refill): every question answered, never more than the concurrency in flight`, async () => {
    const stub = await echoStub({ batch: 1000 });
    try {
      const r = await fireQueries(stub.port, questions, 16, refill);
      assert.equal(r.answered, questions.length);
      assert.equal(r.retries, 0);
      assert.equal(stub.received(), questions.length);
      assert.ok(stub.maxHeld() <= 16, `at most 16 in flight, saw ${stub.maxHeld()}`);
      assert.equal(stub.maxHeld(), 16, 'the window is used');
    } finally {
      await stub.close();
    }
  });
}

test('floor: a lost datagram is sent again (with a new id) and counted as a retry', async () => {
  // Drop the 3rd and 40th datagrams the stub receives.
  const stub = await echoStub({ batch: 8, drop: (n) => n === 3 || n === 40 });
  try {
    const r = await fireQueries(stub.port, questions.slice(0, 100), 8, 'turn', 50);
    assert.equal(r.answered, 100);
    assert.equal(r.retries, 2);
    assert.equal(stub.received(), 102);
  } finally {
    await stub.close();
  }
});

test('floor: no questions, nothing sent', async () => {
  const stub = await echoStub({ batch: 1 });
  try {
    const r = await fireQueries(stub.port, [], 8);
    assert.deepEqual({ answered: r.answered, retries: r.retries }, { answered: 0, retries: 0 });
    assert.equal(stub.received(), 0);
  } finally {
    await stub.close();
  }
});
