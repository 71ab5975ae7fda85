import { load } from '../../src/node';

/** Loads `path` and checks it is one whole checkpoint of saver.ts: every weight equals its epoch. Resolves to the epoch. */
export async function loadWhole(path: string): Promise<number> {
  const c = await load(path);
  const w = c.weights.w!.data;
  if (c.epoch === undefined || !w.every((v) => v === c.epoch)) throw new Error(`${path}: a torn checkpoint (epoch ${c.epoch}, values ${w[0]} … ${w[w.length - 1]})`);
  return c.epoch;
}
