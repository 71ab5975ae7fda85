import type { SingleBar } from 'cli-progress';

/** Where fit's progress bar goes: a terminal stream (only written to when `isTTY`). */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): unknown;
}

/** `fit`'s `progress` option: on/off, or on with an explicit stream. */
export type ProgressOption = boolean | { stream: ProgressStream };

/** @internal the bar as fit drives it. */
export interface ProgressSink {
  startEpoch(epoch: number, epochs: number, batches: number): void;
  update(batch: number, loss: number, samplesPerSecond: number): void;
  stopEpoch(): void;
}

function stdout(): ProgressStream | undefined {
  const p = (globalThis as { process?: { stdout?: ProgressStream } }).process;
  return p?.stdout;
}

/**
 * A cli-progress bar on a TTY; null when progress is off or the stream is not a terminal
 * (then nothing is printed: the caller's onEpoch prints). cli-progress is loaded lazily, so
 * fit works in browsers without it.
 */
export async function createProgress(option: ProgressOption | undefined): Promise<ProgressSink | null> {
  if (option === false) return null;
  const stream = typeof option === 'object' && option !== null ? option.stream : stdout();
  if (!stream || stream.isTTY !== true) return null;
  const mod = await import('cli-progress');
  const Bar = (mod as unknown as { default?: typeof mod }).default?.SingleBar ?? mod.SingleBar;
  let bar: SingleBar | null = null;
  return {
    startEpoch(epoch, epochs, batches) {
      bar = new Bar({
        format: 'epoch {epoch}/{epochs} [{bar}] batch {value}/{total} | loss {loss} | {speed} samples/s | ETA {eta_formatted}',
        stream: stream as NodeJS.WritableStream,
        barsize: 24,
        hideCursor: false,
        clearOnComplete: false,
        fps: 10,
      });
      bar.start(batches, 0, { epoch, epochs, loss: '—', speed: '—' });
    },
    update(batch, loss, samplesPerSecond) {
      bar?.update(batch, { loss: loss.toPrecision(4), speed: Math.round(samplesPerSecond).toString() });
    },
    stopEpoch() {
      bar?.stop();
      bar = null;
    },
  };
}
