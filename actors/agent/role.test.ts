// The agent role's control endpoint with a token file: requests without the bearer token are
// refused, with it answered; an empty token file stops the role from starting.
import { strict as assert } from 'node:assert';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import pino from 'pino';
import { createEmbeddedBroker } from '../../broker/embedded.ts';
import { parseName } from '../../dns/name.ts';
import { ownKeys } from '../../protocol/envelope.ts';
import { tmpDir } from '../../test/support/tmp.ts';
import type { ProviderConfig } from '../config.ts';
import { Metrics } from '../metrics.ts';
import { startAgentRole } from './role.ts';

test('agent role: the control endpoint wants the bearer token from controlTokenFile', async () => {
  const dir = await tmpDir('mpdns-role-');
  const broker = createEmbeddedBroker({ namespace: 'alpha' });
  try {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const own = await ownKeys(await exportJWK(privateKey));
    const tokenFile = join(dir.path, 'token');
    await writeFile(tokenFile, 'sekrit-token-1\n');
    const config: ProviderConfig = {
      identity: parseName('agent.alpha.example.'),
      keyFile: join(dir.path, 'key.jwk'),
      namespace: 'alpha',
      resolver: { address: '127.0.0.1', port: 53 },
      insecure: true,
      gateway: { address: '127.0.0.1', port: 0 },
      control: { address: '127.0.0.1', port: 0 },
      controlTokenFile: tokenFile,
      notify: undefined,
      gatewayMetrics: undefined,
      combiner: undefined,
      nameserver: undefined,
      nameservers: [],
      beatSeconds: 15,
      recheckSeconds: 60,
      zones: [],
    };
    const role = await startAgentRole({ config, own, broker, metrics: new Metrics(), logger: pino({ level: 'silent' }) });
    try {
      const url = `http://127.0.0.1:${role.control.port}`;
      assert.equal((await fetch(`${url}/peers`)).status, 401);
      assert.equal((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
      const ok = await fetch(`${url}/peers`, { headers: { authorization: 'Bearer sekrit-token-1' } });
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), []);
    } finally {
      await role.stop();
    }
    await writeFile(tokenFile, '\n');
    await assert.rejects(startAgentRole({ config, own, broker, metrics: new Metrics(), logger: pino({ level: 'silent' }) }), /control token file is empty/);
  } finally {
    await broker.close();
    await dir.remove();
  }
});
