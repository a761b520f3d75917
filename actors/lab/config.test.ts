import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { ConfigError } from '../config-reader.ts';
import { labConfig } from './config.ts';
import { DEFAULT_LAB } from './lab.ts';

const ISSUE_EXAMPLE = `
zones:
  - { name: customer.zone., hsync: [alpha, bravo, echo], servers: [alpha, bravo, echo], signers: [], nsmgmt: agent, parentsync: owner }
providers:
  - { label: alpha, identity: agent.alpha.example., nameservers: [ns1.alpha.example.], upstream: owner, signs: false }
  - { label: bravo, identity: agent.bravo.example., nameservers: [ns1.bravo.example.], upstream: owner, signs: false }
  - { label: echo,  identity: agent.echo.example.,  nameservers: [ns.echo.example.],   upstream: alpha, signs: false }
`;

test('lab config: the documented example is the default lab', () => {
  assert.deepEqual(labConfig(parse(ISSUE_EXAMPLE), 'lab.yaml'), DEFAULT_LAB);
});

test('lab config: every problem at once', () => {
  const bad = `
zones:
  - { name: "a..b", hsync: [alpha, zulu], nsmgmt: sometimes }
providers:
  - { label: alpha, identity: agent.alpha.example., upstream: yankee }
  - { label: alpha, identity: agent.alpha.example., colour: red }
  - { label: "Bad Label", identity: x. }
`;
  assert.throws(
    () => labConfig(parse(bad), 'lab.yaml'),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(
        e.problems.map((p) => p.split(':')[0]),
        ['providers[1].colour', 'providers[2].label', 'providers', 'providers', 'providers', 'zones[0].name', 'zones[0].hsync', 'zones[0].servers', 'zones[0].nsmgmt', 'zones'],
      );
      return true;
    },
  );
});
