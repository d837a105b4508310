// The DNS world of the SPF void-lookup plan tests (spf-voids-placement, spf-voids-review): the domain's apex and mail
// host have IPv4 addresses only, www too, crm an IPv6 address only; the relay's, Google's and a previous host's records.
import type { MailSettings } from '../../../src/core/model.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { SERVER_IP } from '../checks/context.js';

export const RELAY = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;
/** Addresses across the ranges the relay's record publishes (not the first of each, which mailhealth probes). */
export const RELAY_SENDERS = ['23.83.215.250', '205.201.140.9'];

/** `d` publishing the SPF records `spf`, with `more` names beside. */
export function voidsWorld(d: string, spf: readonly string[], more: ZoneMap = {}): ZoneMap {
  return {
    [d]: { TXT: spf.map((s) => [s]), A: [SERVER_IP], MX: [{ priority: 10, exchange: `mail.${d}` }] },
    [`mail.${d}`]: { A: [SERVER_IP] },
    [`www.${d}`]: { A: [SERVER_IP] },
    [`crm.${d}`]: { AAAA: ['2001:db8:77::5'] },
    'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ip4:205.201.128.0/20 ~all']] },
    '_spf.google.com': { TXT: [['v=spf1 ip4:64.233.160.0/19 ip6:2001:4860:4000::/36 ~all']] },
    'websitewelcome.com': { TXT: [['v=spf1 ip4:192.185.0.0/16 ~all']] },
    ...more,
  };
}
