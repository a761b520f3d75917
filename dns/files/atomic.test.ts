import { strict as assert } from 'node:assert';
import { lstat, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { tmpDir } from '../../test/support/tmp.ts';
import { AtomicFile, writeFileAtomic } from './atomic.ts';
import { OutputError } from './errors.ts';

test('an atomic file has its mode from creation, under an unpredictable name, and appears only on commit', async () => {
  const dir = await tmpDir('mpdns-atomic-');
  // With umask 0 the mode comes only from the open call: a file created with the default
  // mode and chmod-ed later would show 0666 here.
  const umask = process.umask(0);
  try {
    const path = join(dir.path, 'secret');
    const names: string[] = [];
    for (let i = 0; i < 2; i++) {
      const f = new AtomicFile(path, { mode: 0o600 });
      const [tmp, ...more] = (await readdir(dir.path)).filter((n) => n !== 'secret');
      assert.deepEqual(more, [], 'one temporary file');
      if (i === 0) assert.deepEqual(await readdir(dir.path), [tmp], 'no target before commit');
      assert.match(tmp ?? '', new RegExp(`^secret\\.tmp-${process.pid}-[0-9a-f]{16}$`));
      assert.equal((await stat(join(dir.path, tmp as string))).mode & 0o777, 0o600, 'mode 0600 before the first byte');
      names.push(tmp as string);
      f.write('key material');
      await f.commit();
    }
    assert.notEqual(names[0], names[1], 'a new temporary name each time');
    assert.deepEqual(await readdir(dir.path), ['secret']);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal(await readFile(path, 'utf8'), 'key material');

    const aborted = new AtomicFile(join(dir.path, 'never'));
    aborted.write('x');
    await aborted.abort();
    assert.deepEqual(await readdir(dir.path), ['secret'], 'abort leaves nothing');
  } finally {
    process.umask(umask);
    await dir.remove();
  }
});

test('an atomic write replaces a symlink at the target instead of writing through it', async () => {
  const dir = await tmpDir('mpdns-atomic-');
  try {
    const victim = join(dir.path, 'victim');
    await writeFile(victim, 'victim');
    const path = join(dir.path, 'out');
    await symlink(victim, path);
    await writeFileAtomic(path, 'new', { mode: 0o600 });
    assert.equal(await readFile(victim, 'utf8'), 'victim');
    assert.ok((await lstat(path)).isFile());
    assert.equal(await readFile(path, 'utf8'), 'new');
  } finally {
    await dir.remove();
  }
});

test('errors name the target and the option, never the temporary name', async () => {
  const dir = await tmpDir('mpdns-atomic-');
  try {
    const path = join(dir.path, 'no', 'such', 'dir');
    assert.throws(
      () => new AtomicFile(path, { label: '--out' }),
      (err: unknown) => {
        assert.ok(err instanceof OutputError);
        assert.equal(err.message, `--out ${path}: cannot create: ENOENT: no such file or directory`);
        assert.equal(err.detail, 'cannot create: ENOENT: no such file or directory');
        return true;
      },
    );
    await assert.rejects(writeFileAtomic(path, 'x'), { message: `${path}: cannot create: ENOENT: no such file or directory` });
  } finally {
    await dir.remove();
  }
});
