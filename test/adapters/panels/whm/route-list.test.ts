// The smarthost of /etc/exim.conf.localopts `smarthost_routelist` (cpanel.md §8.5: Exim route_list syntax). Only the
// first host of the first route was read: `example.com mx.other.example ; * smtp.sendgrid.net::587` gave the host of a
// one-domain route, and a quoted host list kept its quote in the relay's name (cPanel QA).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { relayFromLocalopts, routeListHost } from '../../../../src/adapters/panels/whm/serverfiles.js';

test('the catch-all route\'s first host: quotes, ports (::), IP literals and options read as Exim does', () => {
  const cases: [string, string | null][] = [
    ['* smtp.mailchannels.net::587', 'smtp.mailchannels.net'],
    ['example.com mx.other.example ; * smtp.sendgrid.net::587', 'smtp.sendgrid.net'],
    ['* "smtp.sendgrid.net::587"', 'smtp.sendgrid.net'],
    ['* "a.example:b.example" byname', 'a.example'],
    ['* [192.0.2.1]::587', '192.0.2.1'],
    ['* [2001:db8::25]::587', '2001:db8::25'],
    ['smtp.x.example', 'smtp.x.example'],
    ['a.example h1.example ; b.example h2.example', null],
    ['', null],
  ];
  for (const [list, host] of cases) assert.equal(routeListHost(list), host, list);
});

test('the relay read from localopts follows the catch-all route', () => {
  // A smarthost other than MailChannels, with no spf_include_hosts: its host name is the include host to look for.
  const r = relayFromLocalopts('smarthost_routelist=example.com mx.other.example ; * "smtp.sendgrid.net::587"\n');
  assert.equal(r?.host, 'smtp.sendgrid.net');
  const mc = relayFromLocalopts('smarthost_routelist=example.com mx.other.example ; * "smtp.mailchannels.net::587"\nsmarthost_username=acme\n');
  assert.equal(mc?.provider, 'mailchannels');
});
