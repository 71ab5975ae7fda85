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

/** @internal a bar as cli-progress's SingleBar is driven (start, update, stop). */
export interface ProgressBar {
  start(total: number, value: number, payload: Record<string, string | number>): void;
  update(value: number, payload: Record<string, string | number>): void;
  stop(): void;
}

/** @internal makes one epoch's bar writing to `stream`. */
export type ProgressBarFactory = (stream: ProgressStream) => ProgressBar;

let barFactory: ProgressBarFactory | null = null;

/**
 * @internal Installs the terminal bar. The Node entry of @neurone/optim (`./node`, picked by
 * the `node` export condition) installs cli-progress's; the default (browser) entry has none,
 * so no terminal code reaches a browser bundle, and fit draws nothing there.
 */
export function setProgressBarFactory(factory: ProgressBarFactory | null): void {
  barFactory = factory;
}

/**
 * A progress bar on a TTY; null when progress is off, the stream is not a terminal (then
 * nothing is printed: the caller's onEpoch prints) or no bar is installed (outside Node).
 */
export async function createProgress(option: ProgressOption | undefined): Promise<ProgressSink | null> {
  if (option === false) return null;
  const stream = typeof option === 'object' && option !== null ? option.stream : stdout();
  if (!stream || stream.isTTY !== true) return null;
  const make = barFactory;
  if (!make) return null;
  let bar: ProgressBar | null = null;
  return {
    startEpoch(epoch, epochs, batches) {
      bar = make(stream);
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
