// The reports the nightly run saves (QA scale S4): the newest keeps its whole document; once a newer report is saved,
// an earlier one keeps everything but its stillFailing list, whose count it keeps (the HTML and text as mailed).
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { runReport, type ReportOutcome } from '../../src/cron/report.js';
import { countingLimiter, DAY, startWorld, type TestWorld } from './world.js';

let w: TestWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

function night(t: TestWorld): Promise<ReportOutcome> {
  return runReport({ store: t.store, panel: t.panel, resolver: t.resolver(), limiter: countingLimiter(), now: () => new Date(t.clock.t) });
}

/** The document as saved (JSON: what the store gives back). */
const asSaved = (doc: unknown) => JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;

describe('nightly report: the reports saved (QA scale S4)', () => {
  test("the newest report is saved whole; an earlier one loses only its still-failing list (count kept) once a newer one is saved", async () => {
    const t = (w = await startWorld());
    const nights: ReportOutcome[] = [];
    for (let i = 0; i < 3; i++) {
      nights.push(await night(t));
      t.clock.advance(DAY);
    }
    const [n1, n2, n3] = nights;
    assert.ok(n2.doc.stillFailing.length > 3 && n3.doc.stillFailing.length > 3, 'problems still failing on nights 2 and 3');

    assert.deepEqual(t.store.getReport(n3.runId)?.json, asSaved(n3.doc), 'the newest: whole');
    for (const o of [n1, n2]) {
      const saved = t.store.getReport(o.runId)!;
      // (The first night has nothing still failing: nothing to leave out.)
      const want = o.doc.stillFailing.length ? { ...asSaved(o.doc), stillFailing: [], stillFailingOmitted: o.doc.stillFailing.length } : asSaved(o.doc);
      assert.deepEqual(saved.json, want);
      assert.equal((saved.json as unknown as { summary: { stillFailing: number } }).summary.stillFailing, o.doc.stillFailing.length);
      // What was mailed is kept as it was: the still-failing problems are in the text and the HTML.
      assert.equal(saved.text, o.rendered.text);
      assert.equal(saved.html, o.rendered.html);
    }
    assert.ok(n2.rendered.text.includes(`Still failing (${n2.doc.stillFailing.length})`), n2.rendered.text.slice(0, 400));
    // Streaks come from the results, not from the reports saved: three nights still failing.
    assert.ok(n3.doc.stillFailing.some((s) => s.nights === 3));
  });
});
