// The one atomic file writer: a new file under an unpredictable temporary name next to the
// target, renamed into place only when complete.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { errnoText, OutputError } from './errors.ts';

export interface AtomicFileOptions {
  /**
   * Permission bits the file is created with (the umask applies), so a private key is never
   * readable by others, not even while it is being written. Default 0o666, as for any new file.
   */
  readonly mode?: number;
  /** What named the file (`--out`): errors say it before the file's name. */
  readonly label?: string;
}

/**
 * A file written under a temporary name and renamed into place by commit(); abort() removes it.
 * The temporary file is created exclusively (`wx`: O_CREAT|O_EXCL, never through an existing
 * name or a symlink planted there) under a name nobody can predict, with its final mode from
 * the start. Errors are OutputErrors naming the target, never the temporary name.
 */
export class AtomicFile {
  private readonly tmp: string;
  private fd: number | undefined;

  constructor(
    readonly path: string,
    private readonly options: AtomicFileOptions = {},
  ) {
    this.tmp = `${path}.tmp-${process.pid}-${randomBytes(8).toString('hex')}`;
    try {
      this.fd = openSync(this.tmp, 'wx', options.mode ?? 0o666);
    } catch (err) {
      throw this.error('cannot create', err);
    }
  }

  private error(what: string, err: unknown): OutputError {
    return new OutputError(this.path, `${what}: ${errnoText(err)}`, this.options.label, { cause: err });
  }

  write(chunk: Uint8Array | string): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    try {
      for (let o = 0; o < bytes.length; ) o += writeSync(this.fd as number, bytes, o);
    } catch (err) {
      throw this.error('cannot write', err);
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  async commit(): Promise<void> {
    this.close();
    try {
      await rename(this.tmp, this.path);
    } catch (err) {
      throw this.error('cannot write', err);
    }
  }

  async abort(): Promise<void> {
    this.close();
    await rm(this.tmp, { force: true });
  }
}

/** Writes `text` to `path` atomically (AtomicFile); on failure nothing is left behind. */
export async function writeFileAtomic(path: string, text: string, options: AtomicFileOptions = {}): Promise<void> {
  const file = new AtomicFile(path, options);
  try {
    file.write(text);
    await file.commit();
  } catch (err) {
    await file.abort();
    throw err;
  }
}
