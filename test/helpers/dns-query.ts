// A DNS query as a crafted test server reads it (test/adapters/dns/*: servers that send hand-made answers).

export interface Query {
  id: number;
  /** The question section (qname, qtype, qclass) as sent. */
  question: Buffer;
  qtype: number;
  /** The qname's labels, as bytes (latin1 text), case as sent. */
  qname: string;
}

export function parseQuery(raw: Buffer): Query {
  let o = 12;
  const labels: string[] = [];
  while (raw[o] !== 0) {
    labels.push(raw.toString('latin1', o + 1, o + 1 + raw[o]));
    o += raw[o] + 1;
  }
  return { id: raw.readUInt16BE(0), question: raw.subarray(12, o + 5), qtype: raw.readUInt16BE(o + 1), qname: labels.join('.') };
}
