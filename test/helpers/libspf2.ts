// libspf2 as a judge of SPF: Debian's `spfquery` (package spfquery, libspf2 1.2.10 — the SPF library Exim, cPanel's
// MTA, is built with, and several Postfix policy daemons use). It looks records up through the system resolver
// (libresolv: /etc/resolv.conf, port 53), so it runs inside the private network + mount namespace of
// test/helpers/netns-dns.ts, whose only DNS server is mailhealth's loopback server serving the zone map given.
//
// `spfquery -file -` reads "<ip> <sender> <helo>" a line and writes, per query: an optional StartError…EndError block
// (the library's errors), then four lines — the result, the SMTP comment, the header comment, the Received-SPF line.
// The result is one of pass, fail, softfail, neutral, none, permerror, temperror — or "(invalid)": libspf2's
// SPF_RESULT_INVALID, what SPF_request_query_mailfrom() leaves when it could not compile the record (Exim's
// $spf_result then says "invalid"; RFC 7208 §4.6 says permerror). Defaults are the library's (Exim sets none of
// them): 10 DNS mechanisms, 10 MX and PTR names; no local policy, no trusted-forwarder.org, no guess.
import { spawnSync } from 'node:child_process';
import type { ServedZoneMap } from '../../src/adapters/dns/server.js';
import { netnsSkip, runWithServedZones } from './netns-dns.js';

const INSTALL = 'apt-get install spfquery; .ci/run installs it';

export interface Libspf2Answer {
  /** pass | fail | softfail | neutral | none | permerror | temperror | invalid ("(invalid)" as spfquery writes it). */
  result: string;
  /** The header comment, then the library's error lines (why, for a permerror or invalid). */
  explanation: string;
}

export interface Libspf2Query {
  ip: string;
  sender: string;
  helo: string;
}

/** Why libspf2 cannot judge here (undefined when it can): no private namespace, or no spfquery. */
export function libspf2Skip(): string | undefined {
  const ns = netnsSkip();
  if (ns) return ns;
  // `-version` prints to stderr and exits 255: that it runs and names libspf2 1.2 is what matters.
  const v = spawnSync('spfquery', ['-version'], { encoding: 'utf8' });
  if (v.error) return `no spfquery runs (${INSTALL})`;
  if (!/SPF library version: 1\.2\./.test(`${v.stdout}${v.stderr}`)) return `spfquery is not libspf2 1.2's (${(v.stdout + v.stderr).trim().split('\n')[0]}; ${INSTALL})`;
  return undefined;
}

/** spfquery's output for `count` queries, one answer each (throws when it does not hold `count` answers). */
export function parseSpfquery(stdout: string, count: number): Libspf2Answer[] {
  const lines = stdout.split('\n');
  const out: Libspf2Answer[] = [];
  let i = 0;
  while (out.length < count && i < lines.length) {
    const errors: string[] = [];
    if (lines[i] === 'StartError') {
      i++;
      while (i < lines.length && lines[i] !== 'EndError') errors.push(lines[i++]);
      i++;
    }
    if (i + 3 >= lines.length) break;
    const result = lines[i] === '(invalid)' ? 'invalid' : lines[i];
    const header = lines[i + 2];
    i += 4;
    out.push({ result, explanation: [header, ...errors.filter((e) => e.startsWith('Error: ')).map((e) => e.slice(7))].filter(Boolean).join(' | ') });
  }
  if (out.length !== count) throw new Error(`spfquery answered ${out.length} of ${count} queries:\n${stdout.slice(0, 2000)}`);
  return out;
}

/**
 * libspf2's check_host(<ip>, <domain of sender>, <sender>) for each query, `zones` served to it in a private
 * namespace: one spfquery process reads them all, in order (its DNS cache lives across them: the map does not change
 * during a run, so no answer depends on what was asked before).
 */
export async function libspf2(zones: ServedZoneMap, queries: readonly Libspf2Query[]): Promise<Libspf2Answer[]> {
  const input = queries.map((q) => `${q.ip} ${q.sender} ${q.helo}\n`).join('');
  const [run] = await runWithServedZones(zones, [{ file: 'spfquery', args: ['-file', '-'], input }], { timeoutMs: 600_000 });
  if (run.signal || run.status === null) throw new Error(`spfquery did not finish (${run.signal ?? ''}): ${run.stderr}`);
  return parseSpfquery(run.stdout, queries.length);
}
