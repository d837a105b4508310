// Knowledge is data with sources: every provider fingerprint and every bounce-code entry names where it comes from — a
// URL, an RFC, a line of the team's reference notes (mail-auth.md), an observed corpus file or a repository — or says
// UNCONFIRMED. A bare "team: … (inferred)" is no source (review R2: five DMARC report-processor rows said only that).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultKnowledge } from '../../src/knowledge/index.js';
import { BOUNCE_TABLE } from '../../src/core/bounce/codes.js';

/** A source that can be followed: a URL, an RFC, mail-auth.md, a corpus file, a repository ("owner/name …"). */
const CITED = /https?:\/\/|\bRFC \d|mail-auth\.md|shared\/corpora\/|\b[a-z0-9-]+\/[a-z0-9-]+ \(/;
const sourced = (s: string) => s.startsWith('UNCONFIRMED') || CITED.test(s);

describe('knowledge sources', () => {
  test('a provider row the team inferred, citing nothing, says UNCONFIRMED', () => {
    const bad = defaultKnowledge.providers.filter((p) => {
      const s = p.source ?? '';
      return !s.trim() || (/\bteam\b|inferred/i.test(s) && !s.startsWith('UNCONFIRMED') && !CITED.test(s));
    });
    assert.deepEqual(bad.map((p) => `${p.id}: ${p.source}`), []);
  });

  test('every bounce code and receiver (but the generic fallback): a cited source or UNCONFIRMED', () => {
    const bad = [
      ...BOUNCE_TABLE.codes.filter((c) => !sourced(c.source)).map((c) => `${c.id}: ${c.source}`),
      ...BOUNCE_TABLE.receivers.filter((r) => r.id !== 'generic' && !sourced(r.source)).map((r) => `${r.id}: ${r.source}`),
    ];
    assert.deepEqual(bad, []);
  });
});
