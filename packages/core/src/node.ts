/**
 * The Node.js part of @neurone/core (`@neurone/core/node`): checkpoints as files, written
 * atomically. Everything else in core is browser-safe; use toBytes / fromBytes there.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readdir, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { toBytes, fromBytes } from './checkpoint';
import type { Checkpoint, CheckpointInput } from './checkpoint';
import { DataError } from './errors';

const why = (e: unknown): string => {
  const err = e as NodeJS.ErrnoException;
  const msg = String(err?.message ?? e);
  return err?.code && !msg.startsWith(err.code) ? `${err.code}: ${msg}` : msg;
};

/** Our temporaries: `.<name>.<pid>.<12 hex>.tmp` beside the target. */
const TMP = /^(\d+)\.[0-9a-f]{12}\.tmp$/;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // someone else's live process
  }
};

/** Removes temporaries of `base` that a process no longer running left behind (a crash, a kill -9) before `since`. */
async function removeStale(dir: string, base: string, since: number): Promise<void> {
  const prefix = `.${base}.`;
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    const m = f.startsWith(prefix) ? TMP.exec(f.slice(prefix.length)) : null;
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    const st = await lstat(join(dir, f)).catch(() => undefined);
    if (st?.isFile() && st.mtimeMs < since) await unlink(join(dir, f)).catch(() => {});
  }
}

/**
 * Writes `bytes` to `path` atomically: a temporary file in the same folder (readable by its owner
 * only while written, when a file is replaced) is written, flushed to disk (fsync), given the existing file's mode and,
 * where the process may, its owner, then renamed over `path`, and the folder is fsynced; so `path`
 * always holds either the previous file or the complete new one — never a partial write. A
 * symlink is followed: the file it points to is replaced, the link stays. A new file gets mode
 * 0644 (less the umask). After the rename, temporaries of `path` left by processes that no longer
 * run (killed during a save) are removed. On failure the temporary file is removed and a DataError
 * names the path and the cause (ENOSPC, EFBIG, EACCES …); the previous file is intact.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const since = Date.now();
  const target = await realpath(path).catch(() => path); // through a symlink to its file
  const dir = dirname(target);
  const prev = await stat(target).catch(() => undefined);
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(tmp, 'wx', prev ? 0o600 : 0o644); // private until it has the old file's mode
    let off = 0;
    while (off < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, off, bytes.length - off);
      if (bytesWritten <= 0) throw new Error('the write made no progress');
      off += bytesWritten;
    }
    await handle.sync();
    if (prev) await handle.chown(prev.uid, prev.gid).catch(() => {}); // keeps the owner where allowed
    if (prev) await handle.chmod(prev.mode & 0o7777);
    await handle.close();
    handle = undefined;
    await rename(tmp, target);
  } catch (e) {
    await handle?.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw new DataError(`${path}: could not write the file (${why(e)}); the previous file, if any, is unchanged`);
  }
  // make the rename itself durable (best effort: not every platform can fsync a folder)
  try {
    const d = await open(dir, 'r');
    await d.sync().finally(() => d.close());
  } catch {
    /* ignored */
  }
  await removeStale(dir, basename(target), since);
}

/**
 * Saves a checkpoint (see toBytes): the model's weights under their dotted names, and the
 * optimizer, scheduler, epoch, RNG and metadata given. Atomic (see writeFileAtomic).
 */
export async function save(path: string, checkpoint: CheckpointInput): Promise<void> {
  await writeFileAtomic(path, await toBytes(checkpoint));
}

/**
 * Loads a checkpoint written by save (or any safetensors file of weights); DataError naming the
 * path. Only a regular file (or a symlink to one) is read: a FIFO, a device or a folder is refused
 * without blocking.
 */
export async function load(path: string): Promise<Checkpoint> {
  let bytes: Uint8Array;
  try {
    const h = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)); // a FIFO opens without waiting for a writer
    try {
      const st = await h.stat();
      if (!st.isFile()) throw new DataError(`${path}: not a regular file (${st.isDirectory() ? 'a folder' : st.isFIFO() ? 'a FIFO' : 'a device or socket'}); a checkpoint is read from a file`);
      bytes = await h.readFile();
    } finally {
      await h.close();
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${path}: cannot read the file (${why(e)})`);
  }
  return fromBytes(bytes, path);
}

export { toBytes, fromBytes } from './checkpoint';
export type { Checkpoint, CheckpointInput } from './checkpoint';
