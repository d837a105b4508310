// What the front-door tests share: a CGI response (as runCgi writes it) taken apart, and an empty request body.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';

export interface ParsedCgi {
  status: number;
  headers: [string, string][];
  header(name: string): string | undefined;
  text: string;
  json<T = unknown>(): T;
}

/** A CGI response: `Status:` line, headers, blank line, body. */
export function parseCgi(out: Buffer | string): ParsedCgi {
  const s = out.toString();
  const split = s.indexOf('\r\n\r\n');
  assert.ok(split > 0, `not a CGI response: ${s.slice(0, 200)}`);
  const lines = s.slice(0, split).split('\r\n');
  const status = /^Status: (\d{3})/.exec(lines[0]);
  assert.ok(status, `first line must be Status: (${lines[0]})`);
  const headers = lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()] as [string, string]);
  const text = s.slice(split + 4);
  return {
    status: Number(status[1]),
    headers,
    header: (n) => headers.find(([k]) => k.toLowerCase() === n.toLowerCase())?.[1],
    text,
    json: <T>() => JSON.parse(text) as T,
  };
}

/** An empty request body. */
export const noBody = () => Readable.from([]);
