import { strict as assert } from 'node:assert';
import { chmod, lstat, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { tmpDir } from '../../test/support/tmp.ts';
import { keyFileBase } from '../dnssec/bindkeys.ts';
import { generateKey, KSK_FLAGS } from '../dnssec/keys.ts';
import { parseName } from '../name.ts';
import { loadKeyDir, writeKeyFiles } from './keydir.ts';

const zone = parseName('example.');

test('a private key file is 0600 and written through no file or symlink planted at a temporary name', async () => {
  const dir = await tmpDir('mpdns-keydir-');
  try {
    // What another local user could plant where a temporary name is predictable
    // (`<file>.tmp-<pid>`, the name used before): a world-readable file they hold open, and a
    // symlink to a file of theirs. The key must go through neither.
    const planted = generateKey(zone, 15, KSK_FLAGS);
    const linked = generateKey(zone, 15, KSK_FLAGS);
    const plantedTmp = join(dir.path, `${keyFileBase(zone, 15, planted.keyTag)}.private.tmp-${process.pid}`);
    await writeFile(plantedTmp, '');
    await chmod(plantedTmp, 0o666);
    const theirs = join(dir.path, 'theirs');
    await writeFile(theirs, '');
    const linkedTmp = join(dir.path, `${keyFileBase(zone, 15, linked.keyTag)}.private.tmp-${process.pid}`);
    await symlink(theirs, linkedTmp);

    const written = await writeKeyFiles(dir.path, [planted, linked]);
    for (const base of written.bases) {
      const st = await lstat(`${base}.private`);
      assert.ok(st.isFile(), `${base}.private is a file of its own`);
      assert.equal(st.mode & 0o077, 0, `${base}.private: no access for group or others`);
    }
    assert.notEqual((await stat(`${written.bases[0]}.private`)).ino, (await stat(plantedTmp)).ino);
    assert.equal(await readFile(plantedTmp, 'utf8'), '', 'the planted file got no key');
    assert.equal(await readFile(theirs, 'utf8'), '', 'the symlinked file got no key');
    assert.ok((await lstat(linkedTmp)).isSymbolicLink());
    assert.deepEqual(
      (await loadKeyDir(dir.path, zone)).map((k) => k.keyTag).sort(),
      [planted.keyTag, linked.keyTag].sort(),
      'the keys load back',
    );
  } finally {
    await dir.remove();
  }
});
