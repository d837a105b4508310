// MailChannels Domain Lockdown (`_mailchannels.<domain>` TXT): parse, classify, render.
// Pure: no I/O, never throws on a bad record.
//
// Syntax (mail-auth.md §4): space-separated fields, the first is always `v=mc1`; then any number of
// `auth=<account-id>`, `senderid=<provider>|<type>|<identity>`, `sidw=<pattern>` fields, each with exactly one
// value; `cfid=<worker>` is deprecated (not supported since 2024-08-31). A message is allowed if any field matches.
//
// Classification (mail-auth.md §4 table; corpora/mailchannels/lockdown-examples.json). When several apply, the
// first in this order wins:
//   invalid            no `v=mc1` first field; `;` separators (e.g. `v=mc1; auid=…`); an empty value (`auth=`);
//                      `v=mc1` with no auth/senderid/sidw/cfid field at all
//   suspect            comma lists (`auth=a,b`: one value per field); a senderid/sidw not shaped
//                      provider|type|identity — MailChannels would never match it
//   deprecated         only `cfid=` fields: effectively no authorisation any more
//   valid-with-warning valid fields plus `cfid=` (drop it), unknown fields (ignored), or an upper-case
//                      field name/version (case sensitivity is undocumented)
//   valid              `v=mc1` + ≥ 1 well-formed auth/senderid/sidw field
// Whether an `auth=` id belongs to the current host (stale record) is a check-level decision, not made here.
import { emptyList } from '../arrays.js';

export type LockdownClass = 'valid' | 'valid-with-warning' | 'deprecated' | 'invalid' | 'suspect';

export interface LockdownRecord {
  class: LockdownClass;
  /** class is `valid` or `valid-with-warning`. */
  valid: boolean;
  /** `mc1` when the first field is `v=mc1`, otherwise the version found first (or null). */
  version: string | null;
  auth: string[];
  senderid: string[];
  sidw: string[];
  cfid: string[];
  /** Fields that are not auth/senderid/sidw/cfid/v, as written. */
  unknownFields: string[];
  /** Reasons for the class, in words (empty for `valid`). */
  problems: string[];
}

const RANK: Record<LockdownClass, number> = { invalid: 0, suspect: 1, deprecated: 2, 'valid-with-warning': 3, valid: 4 };
const SENDER_ID = /^[^|\s]+\|[^|\s]+\|[^|\s]+$/;

/**
 * Why a senderid=/sidw= value cannot match a sender (null when it can): not shaped provider|type|identity, or a
 * senderid with a "*" (wildcards belong in sidw=). The same rules make the record `suspect` in parseLockdown.
 */
export function senderIdProblem(key: 'senderid' | 'sidw', value: string): string | null {
  if (!SENDER_ID.test(value)) return 'it is not shaped provider|type|identity and cannot match a sender id';
  if (key === 'senderid' && value.includes('*')) return 'a senderid= cannot hold "*" (wildcards belong in sidw=)';
  return null;
}

/** Does this TXT value look like a lockdown record (starts with `v=mc1`, any case / separator)? */
export function isLockdownRecord(txt: string): boolean {
  return /^\s*v=mc1(\s|;|$)/i.test(txt);
}

/**
 * Is this TXT value meant as a lockdown record — `v=mc…`, or any of its fields (`auth=`, `senderid=`, `sidw=`, `cfid=`,
 * the `auid=` seen in the wild)? Anything else at `_mailchannels` (a site-verification token) is not a mail record:
 * the check does not judge it and the fix leaves it alone (QA: such a token failed the check and was deleted).
 */
export function isLockdownMeant(txt: string): boolean {
  return isLockdownRecord(txt) || /(^|[\s;,])(v\s*=\s*mc|auth\s*=|senderid\s*=|sidw\s*=|cfid\s*=|auid\s*=)/i.test(txt);
}

/** Parse and classify a `_mailchannels` TXT value. Pass the character-strings as an array to have them joined. */
export function parseLockdown(txt: string | readonly string[]): LockdownRecord {
  const text = (typeof txt === 'string' ? txt : txt.join('')).trim();
  const rec: LockdownRecord = {
    class: 'valid',
    valid: true,
    version: null,
    // emptyList: the same elements kind as a filled list (see core/arrays.ts); the lockdown check maps over these.
    auth: emptyList(),
    senderid: emptyList(),
    sidw: emptyList(),
    cfid: emptyList(),
    unknownFields: [],
    problems: [],
  };
  const flag = (c: LockdownClass, why: string): void => {
    rec.problems.push(why);
    if (RANK[c] < RANK[rec.class]) rec.class = c;
  };

  if (text.includes(';')) flag('invalid', 'fields are separated by ";" — MailChannels expects space-separated fields');
  const fields = text.split(/[\s;]+/).filter((f) => f !== '');

  const first = fields[0] ?? '';
  const fm = /^v=(.*)$/i.exec(first);
  if (fm) rec.version = fm[1];
  if (!fm || fm[1].toLowerCase() !== 'mc1') {
    const later = fields.slice(1).some((f) => /^v=mc1$/i.test(f));
    flag('invalid', later ? 'v=mc1 must be the first field' : 'missing v=mc1 as the first field');
  } else if (first !== 'v=mc1') {
    flag('valid-with-warning', `"${first}": case sensitivity is undocumented, write v=mc1`);
  }

  for (const f of fields.slice(fm ? 1 : 0)) {
    const eq = f.indexOf('=');
    const name = eq < 0 ? f : f.slice(0, eq);
    const key = name.toLowerCase();
    const value = eq < 0 ? '' : f.slice(eq + 1);
    if (key === 'v') {
      if (!/^v=mc1$/i.test(f) || fm) flag('invalid', `unexpected version field "${f}"`);
      continue;
    }
    if (key !== 'auth' && key !== 'senderid' && key !== 'sidw' && key !== 'cfid') {
      rec.unknownFields.push(f);
      flag('valid-with-warning', `unknown field "${f}" is ignored`);
      continue;
    }
    if (name !== key) flag('valid-with-warning', `"${name}": case sensitivity is undocumented, write ${key}`);
    if (eq < 0 || value === '') {
      flag('invalid', `${key}= has an empty value`);
      continue;
    }
    rec[key].push(value);
    if (value.includes(',')) {
      flag('suspect', `${key}=${value}: each field carries exactly one value; use repeated ${key}= fields`);
      continue;
    }
    if ((key === 'senderid' || key === 'sidw') && !SENDER_ID.test(value))
      flag('suspect', `${key}=${value} is not shaped provider|type|identity and cannot match a sender id`);
    if (key === 'senderid' && value.includes('*')) flag('suspect', `senderid=${value} contains "*": wildcards belong in sidw=`);
  }

  const authorising = rec.auth.length + rec.senderid.length + rec.sidw.length;
  if (authorising === 0) {
    if (rec.cfid.length > 0) flag('deprecated', 'only cfid= (Cloudflare Workers id), not supported since 2024-08-31: no sender is authorised; use auth=');
    else if (rec.problems.every((p) => !p.includes('empty value')))
      flag('invalid', 'no auth=, senderid= or sidw= field: at least one is required');
  } else if (rec.cfid.length > 0) {
    flag('valid-with-warning', 'cfid= is deprecated (not supported since 2024-08-31) and ignored; drop it');
  }
  rec.valid = rec.class === 'valid' || rec.class === 'valid-with-warning';
  return rec;
}

export interface LockdownFields {
  auth?: readonly string[];
  senderid?: readonly string[];
  sidw?: readonly string[];
}

/** Canonical record: `v=mc1 auth=… senderid=… sidw=…` (order kept, duplicates dropped). Throws on unusable input. */
export function renderLockdown(fields: LockdownFields): string {
  const out = ['v=mc1'];
  const seen = new Set<string>();
  for (const key of ['auth', 'senderid', 'sidw'] as const) {
    for (const raw of fields[key] ?? []) {
      const v = raw.trim();
      if (v === '' || /[\s;,]/.test(v)) throw new RangeError(`renderLockdown: bad ${key} value ${JSON.stringify(raw)}`);
      const f = `${key}=${v}`;
      if (seen.has(f)) continue;
      seen.add(f);
      out.push(f);
    }
  }
  if (out.length === 1) throw new RangeError('renderLockdown: at least one auth, senderid or sidw value is required');
  return out.join(' ');
}
