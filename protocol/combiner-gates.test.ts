import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseName, type Fqdn } from '../dns/name.ts';
import { rdataFromText } from '../dns/rdata/codec.ts';
import type { RR } from '../dns/rr.ts';
import { RRType } from '../dns/types.ts';
import { checkRecord, checkRemoval, namespaceOwners, protectedNamespaces, type GateOptions } from './combiner-gates.ts';
import { parseRecord } from './contributions.ts';
import { analyseHsync, type HsyncAnalysis } from './hsync-analysis.ts';

const ZONE = parseName('customer.zone.');
const ALPHA = parseName('agent.alpha.example.');
const BRAVO = parseName('agent.bravo.example.');
const ECHO = parseName('agent.echo.example.');
const TALK_HSYNC = ['ON alpha agent.alpha.example. .', 'ON bravo agent.bravo.example. .', 'ON echo agent.echo.example. alpha'];
const TALK_PARAM = 'servers="alpha,bravo,echo" signers="alpha,bravo" nsmgmt="agent" parentsync="agent"';
const OPTIONS: GateOptions = { dnskeyAlgorithms: [15] };
const KEY15 = 'l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=';

function analyse(hsync: readonly string[] = TALK_HSYNC, param: string | undefined = TALK_PARAM, self: Fqdn = ALPHA): HsyncAnalysis {
  return analyseHsync({
    zone: ZONE,
    self,
    hsync: hsync.map((t) => rdataFromText(RRType.HSYNC, t)),
    hsyncparam: param === undefined ? [] : [rdataFromText(RRType.HSYNCPARAM, param)],
  });
}

const rr = (text: string): RR => parseRecord(ZONE, text);

function verdict(text: string, o: { originator?: Fqdn; analysis?: HsyncAnalysis; options?: GateOptions; targets?: string[] } = {}): string {
  const v = checkRecord(
    { analysis: o.analysis ?? analyse(), originator: o.originator ?? BRAVO, rr: rr(text), nsTargets: new Set((o.targets ?? []).map((t) => parseName(t))) },
    o.options ?? OPTIONS,
  );
  return v.verdict === 'accept' ? 'accept' : `${v.verdict} ${v.reason}`;
}

test('combiner gates: what the talk example accepts', () => {
  assert.equal(verdict('customer.zone. 3600 IN NS ns1.bravo.example.'), 'accept');
  assert.equal(verdict(`customer.zone. 3600 IN DNSKEY 257 3 15 ${KEY15}`), 'accept');
  assert.equal(verdict('customer.zone. 3600 IN CDS 12345 15 2 ' + 'ab'.repeat(32)), 'accept');
  assert.equal(verdict('customer.zone. 3600 IN CSYNC 0 3 A NS AAAA'), 'accept');
  assert.equal(verdict('ns1.customer.zone. 3600 IN A 192.0.2.1', { targets: ['ns1.customer.zone.'] }), 'accept');
  assert.equal(verdict('ns1.customer.zone. 3600 IN AAAA 2001:db8::1', { targets: ['ns1.customer.zone.'] }), 'accept');
  assert.equal(verdict('customer.zone. 3600 IN NS ns.echo.example.', { originator: ECHO }), 'accept');
});

test('combiner gates: every rule rejects with its own reason', () => {
  const cases: [string, Parameters<typeof verdict>[1], RegExp][] = [
    ['customer.zone. 3600 IN NS ns1.bravo.example.', { analysis: analyse([], undefined) }, /^reject multi-provider: customer\.zone\. has no HSYNC RRset/],
    ['customer.zone. 3600 IN NS ns1.bravo.example.', { analysis: analyse(['ON bravo agent.bravo.example. .']) }, /^reject membership: .*agent\.alpha\.example\.\) is not listed/],
    ['customer.zone. 3600 IN NS ns1.bravo.example.', { analysis: analyse(['OFF alpha agent.alpha.example. .', 'ON bravo agent.bravo.example. .']) }, /^reject membership: .* is listed OFF/],
    ['customer.zone. 3600 IN NS ns1.x.example.', { originator: parseName('agent.x.example.') }, /^reject sender: agent\.x\.example\. is not listed/],
    ['customer.zone. 3600 IN NS ns1.bravo.example.', { analysis: analyse(['ON alpha agent.alpha.example. .', 'OFF bravo agent.bravo.example. .']) }, /^reject sender: agent\.bravo\.example\. is listed OFF/],
    ['customer.zone. 3600 IN TXT "hello"', {}, /^reject type: TXT is not one of/],
    ['customer.zone. 3600 IN MX 10 mail.customer.zone.', {}, /^reject type: MX/],
    ['www.customer.zone. 3600 IN NS ns1.bravo.example.', {}, /^reject owner: NS only at the apex/],
    ['customer.zone. 3600 IN A 192.0.2.1', {}, /^reject glue: A at customer\.zone\. is not below the apex/],
    ['ns9.customer.zone. 3600 IN A 192.0.2.1', { targets: ['ns1.customer.zone.'] }, /^reject glue: A at ns9\.customer\.zone\. is not glue for an NS target of agent\.bravo\.example\.'s contribution/],
    ['customer.zone. 604801 IN NS ns1.bravo.example.', {}, /^reject ttl: TTL 604801 is above the limit of 604800/],
    ['customer.zone. 301 IN NS ns1.bravo.example.', { options: { ...OPTIONS, maxTtl: 300 } }, /^reject ttl: TTL 301 is above the limit of 300/],
    [`customer.zone. 3600 IN DNSKEY 257 3 15 ${KEY15}`, { originator: ECHO }, /^reject dnskey-signer: DNSKEY only from a provider in signers, and "echo" is not/],
    [`customer.zone. 3600 IN DNSKEY 257 3 13 ${KEY15}`, {}, /^reject dnskey-algorithm: DNSKEY algorithm 13 is not the zone's \(15\)/],
    ['customer.zone. 3600 IN NS ns1.bravo.example.', { analysis: analyse(TALK_HSYNC, 'servers="alpha,echo" signers="alpha" nsmgmt="agent"') }, /^reject ns-server: NS only from a provider in servers, and "bravo" is not/],
    ['customer.zone. 3600 IN NS ns1.bravo.example.', { analysis: analyse(TALK_HSYNC, 'servers="alpha,bravo,echo" signers="alpha,bravo"') }, /^reject nsmgmt: NS only when nsmgmt=agent \(it is owner\)/],
    ['customer.zone. 3600 IN CDS 12345 15 2 ' + 'ab'.repeat(32), { analysis: analyse(TALK_HSYNC, 'signers="alpha,bravo" nsmgmt="agent"') }, /^reject parentsync: CDS only when parentsync=agent/],
    [`customer.zone. 3600 IN CDNSKEY 257 3 15 ${KEY15}`, { analysis: analyse(TALK_HSYNC, 'signers="alpha,bravo"') }, /^reject parentsync: CDNSKEY/],
    ['customer.zone. 3600 IN CSYNC 0 3 A NS AAAA', { analysis: analyse(TALK_HSYNC, 'signers="alpha,bravo"') }, /^reject parentsync: CSYNC/],
    ['customer.zone. 3600 IN NS ns1.alpha.example.', {}, /^reject namespace: NS target ns1\.alpha\.example\. lies in the protected namespace of agent\.alpha\.example\./],
    ['customer.zone. 3600 IN NS ns.dns-alpha.net.', { options: { ...OPTIONS, protectedNamespaces: new Map([[ALPHA, [parseName('dns-alpha.net.')]]]) } }, /^reject namespace: .*agent\.alpha\.example\./],
  ];
  for (const [text, o, want] of cases) assert.match(verdict(text, o), want, text);
});

test('combiner gates: a server that does not sign a signed zone ignores, and approval holds', () => {
  const fromEcho = analyse(TALK_HSYNC, TALK_PARAM, ECHO);
  assert.match(verdict('customer.zone. 3600 IN NS ns1.bravo.example.', { analysis: fromEcho }), /^ignore non-signer: this provider serves but does not sign customer\.zone\./);
  // Rejections stay rejections there.
  assert.match(verdict('customer.zone. 3600 IN TXT "x"', { analysis: fromEcho }), /^reject type:/);
  // An unsigned zone: echo edits its own zone.
  assert.equal(verdict('customer.zone. 3600 IN NS ns1.bravo.example.', { analysis: analyse(TALK_HSYNC, 'nsmgmt="agent"', ECHO) }), 'accept');
  const held = { ...OPTIONS, needsApproval: (o: Fqdn, r: RR): boolean => o === BRAVO && r.type === RRType.NS };
  assert.equal(verdict('customer.zone. 3600 IN NS ns1.bravo.example.', { options: held }), 'hold approval: waiting for an operator to approve it');
  assert.equal(verdict('customer.zone. 3600 IN NS ns.echo.example.', { originator: ECHO, options: held }), 'accept');
});

test('combiner gates: removals need only the sender listed, ON or OFF', () => {
  assert.equal(checkRemoval(analyse(), BRAVO).verdict, 'accept');
  assert.equal(checkRemoval(analyse(['ON alpha agent.alpha.example. .', 'OFF bravo agent.bravo.example. .']), BRAVO).verdict, 'accept');
  const v = checkRemoval(analyse(), parseName('agent.x.example.'));
  assert.equal(v.verdict, 'reject');
  assert.match('reason' in v ? v.reason : '', /^sender:/);
});

test('combiner gates: protected namespaces, longest match wins, the zone itself is never protected', () => {
  const spaces = protectedNamespaces(analyse(), { protectedNamespaces: new Map([[ECHO, [parseName('ns.alpha.example.')]]]) });
  assert.deepEqual(spaces.get(ALPHA), ['alpha.example.']);
  assert.deepEqual(namespaceOwners(parseName('ns1.alpha.example.'), spaces), [ALPHA]);
  assert.deepEqual(namespaceOwners(parseName('x.ns.alpha.example.'), spaces), [ECHO]);
  assert.deepEqual(namespaceOwners(parseName('ns1.customer.zone.'), spaces), []);
  // An identity below the zone does not protect the whole zone.
  const inZone = analyseHsync({ zone: ZONE, self: ALPHA, hsync: ['ON alpha agent.alpha.example. .', 'ON zed agent.customer.zone. .'].map((t) => rdataFromText(RRType.HSYNC, t)), hsyncparam: [] });
  assert.deepEqual(protectedNamespaces(inZone, {}).get(parseName('agent.customer.zone.')), []);
});
