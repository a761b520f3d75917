import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkKey } from '../broker/subjects.ts';
import { machineKey, parseMachineKey, zoneKeyPrefix } from './keys.ts';

test('machine keys: readable, one dot between zone and machine, zone prefix', () => {
  assert.equal(machineKey('Example.COM.', 'peer-alpha'), 'example_com.peer-alpha');
  assert.equal(machineKey('example.com', 'key/Zsk.1'), 'example_com.key=2f=5ask=2e1');
  assert.equal(machineKey('.', 'x'), '=.x');
  assert.ok(machineKey('_dns._tcp.example.', 'm').startsWith(zoneKeyPrefix('_dns._tcp.example')));
  assert.notEqual(zoneKeyPrefix('a.b.example.'), zoneKeyPrefix('a_b.example.'));
  assert.throws(() => machineKey('example.', ''), RangeError);
});

test('machine keys round-trip and are valid KV keys', () => {
  const label = fc.stringMatching(/^[a-zA-Z0-9_-]{1,12}$/);
  fc.assert(
    fc.property(fc.array(label, { minLength: 1, maxLength: 4 }), fc.string({ minLength: 1, maxLength: 20 }), (labels, id) => {
      const zone = `${labels.join('.')}.`;
      const key = machineKey(zone, id);
      checkKey(key);
      assert.deepEqual(parseMachineKey(key), { zone: zone.toLowerCase(), machineId: id });
    }),
  );
  assert.equal(parseMachineKey('no-dot'), undefined);
  assert.equal(parseMachineKey('a.b.c'), undefined);
});
