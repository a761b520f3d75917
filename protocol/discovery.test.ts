import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseName } from '../dns/name.ts';
import { rdataFromText } from '../dns/rdata/codec.ts';
import { RRType } from '../dns/types.ts';
import { DiscoveryError } from './errors.ts';
import { chooseUri, endpointOf, jwkFromRdata, parseDnsUri, svcbHints, transportUriName } from './discovery.ts';

const ID = parseName('agent.alpha.example.');
const uri = (t: string): Uint8Array => rdataFromText(RRType.URI, t);
const svcb = (t: string): Uint8Array => rdataFromText(RRType.SVCB, t);

test('discovery: names and the dns:// URI', () => {
  assert.equal(transportUriName(ID), '_dns._tcp.agent.alpha.example.');
  assert.deepEqual(parseDnsUri(ID, 'dns://dns.agent.alpha.example:5359/'), { host: 'dns.agent.alpha.example.', port: 5359 });
  assert.deepEqual(parseDnsUri(ID, 'dns://DNS.Agent.Alpha.Example.'), { host: 'dns.agent.alpha.example.', port: undefined });
  for (const bad of ['https://x.example/', 'dns://', 'dns://x.example:0/', 'dns://x.example:70000/', 'dns://a..b/', 'dns://x.example/path'])
    assert.throws(() => parseDnsUri(ID, bad), DiscoveryError, bad);
});

test('discovery: the URI with the lowest priority, then the highest weight, wins; non-dns URIs are skipped', () => {
  const chosen = chooseUri(ID, [uri('20 1 "dns://b.example:2/"'), uri('10 1 "dns://c.example:3/"'), uri('10 5 "dns://a.example:1/"'), uri('1 1 "https://api.example/"')]);
  assert.deepEqual(chosen, { host: 'a.example.', port: 1 });
  assert.throws(() => chooseUri(ID, [uri('1 1 "https://api.example/"')]), /no dns:\/\/ URI at _dns._tcp.agent.alpha.example./);
});

test('discovery: SVCB hints and the endpoint (URI port, then SVCB port, then 53; hints before A/AAAA)', () => {
  const hints = svcbHints([svcb('2 . port=99'), svcb('1 . port=5359 ipv4hint=192.0.2.11,192.0.2.12 ipv6hint=2001:db8::11'), svcb('0 other.example.')]);
  assert.deepEqual(hints, { port: 5359, addresses: ['192.0.2.11', '192.0.2.12', '2001:db8::11'] });
  const host = parseName('dns.agent.alpha.example.');
  assert.deepEqual(endpointOf(ID, { host, port: 7000 }, hints, ['192.0.2.11', '192.0.2.99']), { host, port: 7000, addresses: ['192.0.2.11', '192.0.2.12', '2001:db8::11', '192.0.2.99'] });
  assert.equal(endpointOf(ID, { host, port: undefined }, hints, []).port, 5359);
  assert.equal(endpointOf(ID, { host, port: undefined }, { port: undefined, addresses: [] }, ['192.0.2.1']).port, 53);
  assert.throws(() => endpointOf(ID, { host, port: 1 }, { port: undefined, addresses: [] }, []), /no address for dns.agent.alpha.example./);
});

test('discovery: the JWK record holds base64url JSON', () => {
  const jwk = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' };
  const b64 = Buffer.from(JSON.stringify(jwk)).toString('base64url');
  assert.deepEqual(jwkFromRdata(ID, rdataFromText(RRType.JWK, b64)), jwk);
  assert.throws(() => jwkFromRdata(ID, rdataFromText(RRType.JWK, Buffer.from('not json').toString('base64url'))), /not base64url of JSON/);
});
