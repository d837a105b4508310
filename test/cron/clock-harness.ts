// Test helper: the real node-cron (and the scheduler) under two clocks, as on a server — timers that wait a duration
// (monotonic: a step of the wall clock does not move them) and a wall clock (Date) that an NTP step or an admin can
// set back or forward. Node's mock.timers cannot do this (its timers follow its Date: a step back would delay them
// too), so Date is mocked there and the global setTimeout/setInterval are replaced by a queue on a monotonic counter
// for the length of one run. No real waits: `advance` runs the due timers in order.
import { mock } from 'node:test';

interface Timer {
  id: number;
  due: number;
  fn: () => void;
  every: number | null;
}

export interface TwoClocks {
  /** The monotonic time (ms since the start). */
  readonly mono: number;
  /** Let `ms` pass: both clocks move, the timers due meanwhile run in order (promises settle between them). */
  advance(ms: number, slice?: number): Promise<void>;
  /** Step the wall clock alone (negative: back), as NTP or `date -s` does. */
  step(ms: number): void;
  /** Put the real timers and Date back. */
  restore(): void;
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => queueMicrotask(r));
};

export function twoClocks(wallStart: string): TwoClocks {
  let mono = 0;
  let wall = Date.parse(wallStart);
  let seq = 0;
  const timers = new Map<number, Timer>();
  const real = { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout, setInterval: globalThis.setInterval, clearInterval: globalThis.clearInterval };
  mock.timers.enable({ apis: ['Date'], now: wall });
  const handle = (id: number) => ({ id, unref: () => handle(id), ref: () => handle(id), hasRef: () => false, [Symbol.toPrimitive]: () => id });
  const add = (fn: () => void, ms: number | undefined, every: boolean) => {
    const id = ++seq;
    const wait = Math.max(1, Number(ms) || 0);
    timers.set(id, { id, due: mono + wait, fn, every: every ? wait : null });
    return handle(id);
  };
  const clear = (h: unknown) => {
    const id = typeof h === 'object' && h !== null ? (h as { id: number }).id : Number(h);
    timers.delete(id);
  };
  const g = globalThis as unknown as Record<string, unknown>;
  g.setTimeout = (fn: () => void, ms?: number) => add(fn, ms, false);
  g.setInterval = (fn: () => void, ms?: number) => add(fn, ms, true);
  g.clearTimeout = clear;
  g.clearInterval = clear;
  return {
    get mono() {
      return mono;
    },
    async advance(ms: number, slice = 1_000) {
      const end = mono + ms;
      while (mono < end) {
        const target = Math.min(end, mono + slice);
        for (;;) {
          const next = [...timers.values()].filter((t) => t.due <= target).sort((a, b) => a.due - b.due || a.id - b.id)[0];
          if (!next) break;
          wall += next.due - mono;
          mono = next.due;
          mock.timers.setTime(wall);
          if (next.every === null) timers.delete(next.id);
          else next.due += next.every;
          next.fn();
          await settle();
        }
        wall += target - mono;
        mono = target;
        mock.timers.setTime(wall);
        await settle();
      }
    },
    step(ms: number) {
      wall += ms;
      mock.timers.setTime(wall);
    },
    restore() {
      Object.assign(g, real);
      mock.timers.reset();
    },
  };
}
