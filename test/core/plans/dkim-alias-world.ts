// The shared world of the DKIM alias tests (dkim-cname-own, dkim-alias-beside): d.example's server selector, the name
// the hosting server publishes its own keys at, keys, and record builders.
import { generateKeyPairSync } from 'node:crypto';
import type { Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';

export const D = 'd.example';
export const NAME = `default._domainkey.${D}`;
// Where the hosting server publishes its own keys (a name outside the customer's zone).
export const TARGET = 'd-example._domainkey.server1.newhost.example';
export const key = (bits = 2048) => generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
export const mine = key();
export const theirs = key();
export const split = (s: string) => (s.length > 250 ? [s.slice(0, 200), s.slice(200)] : [s]);
export const rec = (p: string, extra = '') => `v=DKIM1; k=rsa; ${extra}p=${p}`;
export const cname: ZoneRecord = { name: NAME, ttl: 3600, type: 'CNAME', value: `${TARGET}.`, ref: 'r:cname' };
export const txt = (value: string, i = 0): ZoneRecord => ({ name: NAME, ttl: 3600, type: 'TXT', value, txt: split(value), ref: `r:txt${i}` });
export const rules = (fs: Finding[]) => fs.map((f) => `${f.rule}:${f.severity}${f.fix ? ':fix' : ''}`);
export const dkim = (d: Partial<MailSettings['dkim']> = {}): Pick<MailSettings, 'dkim'> => ({ dkim: { selector: 'default', signing: true, publicKey: mine, ...d } });
