// A CheckContext over a MapResolver for unit tests of single checks (not a test file itself).
import { makeClassifier } from '../../../src/core/classify.js';
import type { CheckContext } from '../../../src/core/checks/context.js';
import type { MailSettings, Zone, ZoneRecord } from '../../../src/core/model.js';
import { RecordIndex } from '../../../src/core/zone.js';
import { defaultKnowledge } from '../../../src/knowledge/index.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';

export const SERVER_IP = '203.0.113.10';

export function checkContext(domain: string, map: ZoneMap, settings: Partial<MailSettings> = {}, zoneRecords: ZoneRecord[] | null = null): CheckContext {
  const s: MailSettings = {
    domain,
    hostname: 'server1.newhost.example',
    ips: [SERVER_IP],
    helo: 'server1.newhost.example',
    nameservers: ['ns1.newhost.example', 'ns2.newhost.example'],
    dkim: { selector: 'default', signing: true },
    routing: 'local',
    relay: null,
    ...settings,
  };
  const resolver = new MapResolver(map);
  const zone: Zone | null = zoneRecords ? { domain, serial: 1, records: zoneRecords, version: 'test' } : null;
  const zoneIndex = zone ? new RecordIndex(zone.records) : null;
  const classifier = makeClassifier({ domain, zone, zoneIndex, settings: s, resolver, knowledge: defaultKnowledge });
  return { domain, zone, zoneIndex, settings: s, resolver, classifier, knowledge: defaultKnowledge, options: {} };
}
