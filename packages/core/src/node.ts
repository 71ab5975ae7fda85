/**
 * The Node.js part of @neurone/core (`@neurone/core/node`): checkpoints as files, written
 * atomically. Everything else in core is browser-safe; use toBytes / fromBytes there.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { toBytes, fromBytes } from './checkpoint';
import type { Checkpoint, CheckpointInput } from './checkpoint';
import { DataError } from './errors';

const why = (e: unknown): string => {
  const err = e as NodeJS.ErrnoException;
  const msg = String(err?.message ?? e);
  return err?.code && !msg.startsWith(err.code) ? `${err.code}: ${msg}` : msg;
};

/**
 * Writes `bytes` to `path` atomically: a temporary file in the same folder is written, flushed
 * to disk (fsync) and renamed over `path`, so `path` always holds either the previous file or
 * the complete new one — never a partial write. On failure the temporary file is removed and a
 * DataError names the path and the cause (ENOSPC, EFBIG, EACCES …); the previous file is intact.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(tmp, 'wx', 0o644);
    let off = 0;
    while (off < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, off, bytes.length - off);
      if (bytesWritten <= 0) throw new Error('the write made no progress');
      off += bytesWritten;
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (e) {
    await handle?.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw new DataError(`${path}: could not write the file (${why(e)}); the previous file, if any, is unchanged`);
  }
  // make the rename itself durable (best effort: not every platform can fsync a folder)
  try {
    const dir = await open(dirname(path), 'r');
    await dir.sync().finally(() => dir.close());
  } catch {
    /* ignored */
  }
}

/**
 * Saves a checkpoint (see toBytes): the model's weights under their dotted names, and the
 * optimizer, scheduler, epoch, RNG and metadata given. Atomic (see writeFileAtomic).
 */
export async function save(path: string, checkpoint: CheckpointInput): Promise<void> {
  await writeFileAtomic(path, await toBytes(checkpoint));
}

/** Loads a checkpoint written by save (or any safetensors file of weights); DataError naming the path. */
export async function load(path: string): Promise<Checkpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new DataError(`${path}: cannot read the file (${why(e)})`);
  }
  return fromBytes(bytes, path);
}

export { toBytes, fromBytes } from './checkpoint';
export type { Checkpoint, CheckpointInput } from './checkpoint';
