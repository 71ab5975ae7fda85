/**
 * The terminal progress bar of `fit` (cli-progress), for Node only: imported by the Node entry
 * (src/node.ts), never by the browser-safe default entry.
 */
import cliProgress from 'cli-progress';
import type { ProgressBar, ProgressStream } from './progress';

/** A cli-progress SingleBar with fit's format, writing to `stream`. */
export function cliProgressBar(stream: ProgressStream): ProgressBar {
  return new cliProgress.SingleBar({
    format: 'epoch {epoch}/{epochs} [{bar}] batch {value}/{total} | loss {loss} | {speed} samples/s | ETA {eta_formatted}',
    stream: stream as NodeJS.WritableStream,
    barsize: 24,
    hideCursor: false,
    clearOnComplete: false,
    fps: 10,
  });
}
