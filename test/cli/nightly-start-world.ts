// Shared by the tests of what the nightly report does when its service starts (nightly-missed, nightly-interrupted):
// a cron test world, `startNightlyReport` with an injected clock, logs and timers (nothing waits for the wall clock),
// and report runs recorded at given times.
import { startNightlyReport, type NightlySeams } from '../../src/cli/nightly.js';
import { startWorld, type TestWorld } from '../cron/world.js';
import { fakeSchedule } from '../cron/fake-schedule.js';

/** The delay of a catch-up run after the start (src/cli/nightly.ts). */
export const MISSED_NIGHT_DELAY_MS = 5 * 60_000;

export interface StartWorld {
  w: TestWorld;
  logs: string[];
  timers: { fn: () => void; ms: number; done: boolean }[];
  /** A report run started at `at`: finished with `status`, or left `running` (its process killed under it). */
  recordedRun(at: number, status?: 'complete' | 'interrupted' | 'running'): number;
  /** The service's nightly report started at `now` (epoch ms), at `cron` in UTC (default 03:00). */
  start(now: number, fake?: ReturnType<typeof fakeSchedule>, cron?: string): ReturnType<typeof startNightlyReport>;
  /** The timers set and not yet fired or cleared. */
  live(): StartWorld['timers'];
}

export async function startWorldForNights(): Promise<StartWorld> {
  const w = await startWorld();
  w.store.setSetting('report.dnsQps', 100_000);
  const logs: string[] = [];
  const timers: StartWorld['timers'] = [];
  return {
    w,
    logs,
    timers,
    recordedRun(at, status = 'complete') {
      w.clock.t = at;
      const id = w.store.startRun('report', 'root', 0);
      if (status !== 'running') w.store.finishRun(id, status);
      return id;
    },
    start(now, fake = fakeSchedule(), cron = '0 3 * * *') {
      w.clock.t = now;
      return startNightlyReport({ resolver: w.dns.address, authoritativePort: w.dns.port, reportCron: cron, reportTz: 'UTC' }, w.panel, w.store, {
        schedule: fake.schedule,
        log: (m) => logs.push(m),
        mailer: { async sendMail() {} },
        now: () => new Date(w.clock.t),
        setTimer: (fn, ms) => {
          const a = { fn: () => ((a.done = true), fn()), ms, done: false };
          timers.push(a);
          return { clear: () => void (a.done = true) };
        },
      } as NightlySeams);
    },
    live: () => timers.filter((a) => !a.done),
  };
}
