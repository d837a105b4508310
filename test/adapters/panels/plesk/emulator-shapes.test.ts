// The Plesk emulator against Plesk's documented shapes, where an earlier reading of the reference was wrong.
// `plesk bin dns` takes a domain alias as well as a domain: Plesk's CLI reference for Linux ("dns: DNS Zones on Domains",
// docs.plesk.com/en-US/obsidian/cli-linux/using-command-line-utilities/dns-dns-zones-on-domains.37771) gives
// `dns <command> [<domain_name>|<domain_alias>]`, `--add or -a <domain_name>|<domain_alias>`, and "adding resource
// records to or deleting them from a domain's or domain alias' DNS zone"; an existing record: "returns code 2".
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addPleskAlias, makePleskState, pleskBin, recordsOf, startPleskServer } from '../../../helpers/emulators/plesk.js';

describe('Plesk emulator: documented shapes', () => {
  it('plesk bin dns --add/--del <domain alias>: the record lands in, and leaves, the alias zone (under its A-label); a second add exits 2', () => {
    const state = makePleskState();
    addPleskAlias(state, 'alice.example', { name: 'bücher.example', ascii_name: 'xn--bcher-kva.example' });
    const parent = JSON.stringify(recordsOf(state, 'alice.example'));
    const add = ['--add', 'bücher.example', '-txt', 'v=DMARC1; p=none', '-domain', '_dmarc', '-ttl', '3600'];
    const added = pleskBin(state, 'dns', add);
    assert.equal(added.code, 0, added.stderr);
    const dmarc = () => recordsOf(state, 'bücher.example').filter((r) => r.host === '_dmarc.xn--bcher-kva.example.' && r.type === 'TXT');
    assert.deepEqual(
      dmarc().map((r) => [r.value, r.ttl]),
      [['v=DMARC1; p=none', 3600]],
    );
    assert.equal(pleskBin(state, 'dns', add).code, 2);
    assert.equal(JSON.stringify(recordsOf(state, 'alice.example')), parent, 'the domain’s own zone is not touched');
    const removed = pleskBin(state, 'dns', ['--del', 'bücher.example', '-txt', 'v=DMARC1; p=none', '-domain', '_dmarc']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(dmarc(), []);
  });

  it('the same through REST /api/v2/cli/dns/call: {code: 0}', async () => {
    const state = makePleskState();
    addPleskAlias(state, 'alice.example', { name: 'alice-alias.example' });
    const srv = await startPleskServer(state);
    try {
      const res = await fetch(`${srv.url}/api/v2/cli/dns/call`, {
        method: 'POST',
        headers: { 'x-api-key': state.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ params: ['--add', 'alice-alias.example', '-txt', 'v=mc1 auth=example', '-domain', '_mailchannels'] }),
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { code: number; stderr: string };
      assert.equal(body.code, 0, body.stderr);
      assert.ok(recordsOf(state, 'alice-alias.example').some((r) => r.host === '_mailchannels.alice-alias.example.' && r.value === 'v=mc1 auth=example'));
    } finally {
      await srv.close();
    }
  });
});
