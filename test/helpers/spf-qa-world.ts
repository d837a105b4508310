// The outside world of the SPF QA scenarios (test/core/checks/spf-qa.test.ts, test/core/plans/spf-qa.test.ts): the
// server's name and PTR, mail services' SPF trees, a previous host's include, and broken vendors' records (a loop, an
// invalid ip4, names without addresses).
import { SERVER_IP } from '../core/checks/context.js';
import type { ZoneMap } from './map-resolver.js';

export const SPF_QA_WORLD: ZoneMap = {
  'server1.newhost.example': { A: [SERVER_IP] },
  '10.113.0.203.in-addr.arpa': { PTR: ['server1.newhost.example'] },
  '_spf.google.com': { TXT: [['v=spf1 include:_netblocks.google.com ~all']] },
  '_netblocks.google.com': { TXT: [['v=spf1 ip4:172.217.0.0/19 ~all']] },
  'spf.protection.outlook.com': { TXT: [['v=spf1 include:spfa.protection.outlook.com include:spfb.protection.outlook.com -all']] },
  'spfa.protection.outlook.com': { TXT: [['v=spf1 ip4:40.92.0.0/15 -all']] },
  'spfb.protection.outlook.com': { TXT: [['v=spf1 ip4:52.100.0.0/14 -all']] },
  'mailgun.org': { TXT: [['v=spf1 include:_spf.mailgun.org ~all']] },
  '_spf.mailgun.org': { TXT: [['v=spf1 include:_spf1.mailgun.org include:_spf2.mailgun.org ~all']] },
  '_spf1.mailgun.org': { TXT: [['v=spf1 ip4:209.61.151.0/24 ~all']] },
  '_spf2.mailgun.org': { TXT: [['v=spf1 ip4:166.78.68.0/22 ~all']] },
  'sendgrid.net': { TXT: [['v=spf1 ip4:167.89.0.0/17 ~all']] },
  'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ~all']] },
  'websitewelcome.com': { TXT: [['v=spf1 ip4:192.185.0.0/16 ~all']] },
  'loop-a.vendor.example': { TXT: [['v=spf1 include:loop-b.vendor.example ~all']] },
  'loop-b.vendor.example': { TXT: [['v=spf1 include:loop-a.vendor.example ~all']] },
  'broken.vendor.example': { TXT: [['v=spf1 ip4:198.51.100.300 ~all']] },
  'gone1.oldvendor.example': { TXT: [['exists but no A']] },
  'noaddr2.oldvendor.example': { TXT: [['x']] },
  'noaddr3.oldvendor.example': { TXT: [['x']] },
};
