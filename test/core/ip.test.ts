// Address helpers: which addresses are not on the public internet (a PTR for them is not asked of the world).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPrivateIp } from '../../src/core/ip.js';

test('private, loopback, link-local, ULA and CGNAT addresses are private; public ones are not', () => {
  for (const ip of ['10.0.0.5', '192.168.1.1', '172.16.0.1', '127.0.0.1', '169.254.1.1', '100.64.0.1', 'fd00::1', 'fe80::1', '::1']) {
    assert.equal(isPrivateIp(ip), true, ip);
  }
  for (const ip of ['203.0.113.10', '8.8.8.8', '2001:4860:4860::8888']) assert.equal(isPrivateIp(ip), false, ip);
  assert.equal(isPrivateIp('not an address'), false);
});

test('an IPv4-mapped IPv6 address is judged by the IPv4 address it carries', () => {
  assert.equal(isPrivateIp('::ffff:10.0.0.5'), true);
  assert.equal(isPrivateIp('::ffff:192.168.0.9'), true);
  assert.equal(isPrivateIp('::ffff:8.8.8.8'), false);
});

test('isIpAddress: dotted-quad IPv4 and IPv6; never a host name or another IPv4 spelling', async () => {
  const { isIpAddress } = await import('../../src/core/ip.js');
  for (const ip of ['192.0.2.1', '0.0.0.0', '255.255.255.255', '2001:db8::1', '::1', '::ffff:192.0.2.1', 'fe80::1%eth0']) assert.equal(isIpAddress(ip), true, ip);
  for (const s of ['mail.example.com', '192.0.2', '192.0.2.256', '01.2.3.4', '0x7f.0.0.1', '3232235777', '1.2.3.4.5', '', 'example']) assert.equal(isIpAddress(s), false, s);
});
