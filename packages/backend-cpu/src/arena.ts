/**
 * float32 tensor storage inside the WebAssembly memory, so that the kernels of gemm.wat (the
 * GEMM, the maps, the thread pool's jobs) read and write tensors where they lie instead of copying
 * each operand in and its result out (a quarter of a small CNN's training step went to those
 * copies). index.ts's cpu() passes the process's arena (threads.ts's sharedWasm) to CpuKernels.
 *
 * The memory is shared (a SharedArrayBuffer underneath): growing it leaves every view made before
 * valid, and the thread pool's workers run on the same memory. Where shared memory is missing (a
 * browser page that is not cross-origin isolated) there is no arena and storage stays on the JS
 * heap, copied through the module's own memory as before.
 *
 * Blocks are handed out by size class (at most 1/8 larger than asked, with room for the kernels'
 * tails past align4(n)) and freed blocks wait in one list per class for the next tensor of that
 * class: a training step allocates the same sizes every step. The memory never shrinks, so the
 * arena is bounded: tensors over MAX_TENSOR_FLOATS, and every tensor once the arena holds
 * MAX_ARENA_BYTES, live on the JS heap (kernels copy those through scratch, as before), where the
 * garbage collector sees them.
 */

/** The largest tensor (floats) stored in the arena: larger ones (a whole dataset) are heap arrays. */
export const MAX_TENSOR_FLOATS = 2 ** 22;
/** Bytes of tensor blocks the arena hands out in all (scratch comes on top). */
export const MAX_ARENA_BYTES = 256 * 2 ** 20;

const PAGE = 65536;
/** n floats rounded up to a multiple of 4 (16-byte alignment). */
export const align4 = (floats: number): number => (floats + 3) & ~3;

/** The block size (floats) serving n floats: align4(n) + 4 rounded up to a multiple of 1/8 of its power of two (16 floats at least). */
export function sizeClass(n: number): number {
  const base = align4(n) + 4;
  if (base <= 64) return (base + 15) & ~15;
  const step = 1 << (28 - Math.clz32(base)); // 2^(⌊log₂ base⌋ − 3)
  return Math.ceil(base / step) * step;
}

/**
 * A memory the kernels run on: where a float32 array lies in it (−1: not there) and a scratch
 * region for operands that must be copied in. The arena is one; a module's own memory (no arena
 * here) is the other, where nothing lies and scratch starts at the bottom.
 */
export interface WasmMemory {
  readonly memory: WebAssembly.Memory;
  /** The float offset of `a` in the memory, or −1 when `a` is not a view on it. */
  at(a: Float32Array): number;
  /** The float offset of a region of `floats` floats (16-byte aligned) for this call's copies and packs, or −1 when memory cannot grow. */
  scratch(floats: number): number;
}

/** Grows `memory` to hold `floats` floats; false when it cannot. */
export function ensureMemory(memory: WebAssembly.Memory, floats: number): boolean {
  const bytes = floats * 4;
  if (bytes > 2 ** 32 - PAGE) return false;
  const have = memory.buffer.byteLength;
  if (bytes <= have) return true;
  try {
    memory.grow(Math.ceil((bytes - have) / PAGE));
    return true;
  } catch {
    return false;
  }
}

export class Arena implements WasmMemory {
  readonly memory: WebAssembly.Memory;
  /** Every SharedArrayBuffer object the memory has shown (one per size it has had): a view on any of them is ours. */
  readonly #buffers = new WeakSet<ArrayBufferLike>();
  readonly #free = new Map<number, number[]>();
  /** The blocks handed out and not given back: float offset → size class. */
  readonly #live = new Map<number, number>();
  /** Floats handed out from the bottom so far (blocks and scratch regions). */
  #top = 16;
  #tensorFloats = 0;
  #scratchAt = -1;
  #scratchFloats = 0;

  private constructor(memory: WebAssembly.Memory) {
    this.memory = memory;
    this.#buffers.add(memory.buffer);
  }

  /** A fresh arena; null where shared WebAssembly memory is missing. */
  static make(): Arena | null {
    try {
      return new Arena(new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true }));
    } catch {
      return null;
    }
  }

  /** Bytes of tensor blocks made so far (handed out or waiting in a free list), and of those handed out now (tests). */
  get bytes(): { blocks: number; live: number } {
    let live = 0;
    for (const cls of this.#live.values()) live += cls;
    return { blocks: this.#tensorFloats * 4, live: live * 4 };
  }

  #buffer(): ArrayBufferLike {
    const b = this.memory.buffer;
    this.#buffers.add(b);
    return b;
  }

  /** A block of `floats` floats from the top; −1 when the memory cannot grow. */
  #bump(floats: number): number {
    const at = this.#top;
    if (!ensureMemory(this.memory, at + floats)) return -1;
    this.#top += floats;
    return at;
  }

  /** A float32 array of n elements in the arena (its contents are whatever was there), or null: too large, the arena full, or no memory. */
  take(n: number): Float32Array | null {
    if (n > MAX_TENSOR_FLOATS || n === 0) return null;
    const cls = sizeClass(n);
    let at = this.#free.get(cls)?.pop();
    if (at === undefined) {
      if ((this.#tensorFloats + cls) * 4 > MAX_ARENA_BYTES) return null;
      at = this.#bump(cls);
      if (at < 0) return null;
      this.#tensorFloats += cls;
    }
    this.#live.set(at, cls);
    return new Float32Array(this.#buffer(), at * 4, n);
  }

  /**
   * Gives back an array from `take` (the caller holds no other view on it): true; false, leaving
   * the arena as it was, for any other array (a heap array, a view into a block, a block already given back).
   */
  give(a: Float32Array): boolean {
    const at = this.at(a);
    const cls = this.#live.get(at);
    if (cls === undefined || cls !== sizeClass(a.length)) return false;
    this.#live.delete(at);
    const list = this.#free.get(cls);
    if (list) list.push(at);
    else this.#free.set(cls, [at]);
    return true;
  }

  at(a: Float32Array | Float64Array): number {
    return a instanceof Float32Array && this.#buffers.has(a.buffer) ? a.byteOffset / 4 : -1;
  }

  /** The scratch region, moved to the top when it must grow (the old one's floats are lost to it: scratch only grows, by half at least). */
  scratch(floats: number): number {
    if (floats > this.#scratchFloats || this.#scratchAt < 0) {
      const size = align4(Math.max(floats, Math.ceil(this.#scratchFloats * 1.5)));
      const at = this.#bump(size);
      if (at < 0) return -1;
      [this.#scratchAt, this.#scratchFloats] = [at, size];
    }
    return this.#scratchAt;
  }
}

/**
 * Runs a kernel on `mem` with the float offsets of `inputs` and `outputs`: each array where it lies
 * when it is a view on the memory, otherwise a slot in the scratch region (inputs copied in,
 * outputs copied out after `run`; only their elements from `from[i]` on, where the caller computes
 * those before on the arrays themselves), and `extra` floats of scratch after them at `extraAt`
 * (pack buffers, accumulators). Each slot has room for its length rounded up to 4, plus 4. False,
 * with nothing run, when the scratch needed passes `maxScratch` floats or the memory cannot grow;
 * false when `run` returns false (nothing is copied out).
 */
export function place(
  mem: WasmMemory, inputs: readonly Float32Array[], outputs: readonly Float32Array[], extra: number,
  run: (offsets: number[], extraAt: number) => boolean | void, from: readonly number[] = [], maxScratch = Infinity,
): boolean {
  const arrays = [...inputs, ...outputs];
  const own = arrays.map((a) => mem.at(a));
  let floats = 0;
  const rel = own.map((o, i) => (o >= 0 ? 0 : (floats += slot(arrays[i]!)) - slot(arrays[i]!)));
  const need = floats + align4(extra) + 32;
  const base = need > maxScratch ? -1 : mem.scratch(need);
  if (base < 0) return false;
  const offsets = own.map((o, i) => (o >= 0 ? o : base + rel[i]!));
  const heap = new Float32Array(mem.memory.buffer);
  const lo = (i: number): number => from[i] ?? 0;
  arrays.forEach((a, i) => i < inputs.length && own[i]! < 0 && heap.set(a.subarray(lo(i)), offsets[i]! + lo(i)));
  if (run(offsets, base + floats) === false) return false;
  arrays.forEach((a, i) => i >= inputs.length && own[i]! < 0 && a.set(heap.subarray(offsets[i]! + lo(i), offsets[i]! + a.length), lo(i)));
  return true;
}

/** A scratch slot's floats for array `a`: its length rounded up to 4, plus 4 (room for the kernels' tails). */
const slot = (a: Float32Array): number => align4(a.length) + 4;
