/**
 * The XOR training run shared by the packaging checks (browser bundle, packed tarballs, size):
 * `xorSource(imports)` is a module's source text that trains `Linear(2, 8) → TanH → Linear(8, 1)
 * → Sigmoid` with BCELoss, SGD and fit() on the four XOR points, then reports the rounded
 * predictions and the last epoch's loss through `report(result, net)` (a function the caller defines
 * in `imports`' preamble; `net` is the trained model). Plain JavaScript, so it runs unchanged in Node (ESM or CommonJS) and
 * in a browser bundle.
 */
export const XOR_EXPECTED = [0, 1, 1, 0];

/** @param {string} preamble the import/require lines that bind the names below, and `report`. */
export function xorSource(preamble, { async = 'module' } = {}) {
  const body = `
const backend = cpu();
const rng = new RNG(3);
const net = new Sequential(
  new Linear(2, 8, { backend, rng }),
  new TanH(),
  new Linear(8, 1, { backend, rng }),
  new Sigmoid(),
);
const data = {
  x: { data: new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]), shape: [4, 2] },
  y: { data: new Float32Array([0, 1, 1, 0]), shape: [4, 1] },
};
const opt = new SGD(net.parameters(), { lr: 0.5, momentum: 0.9 });
const history = await fit(net, new BCELoss(), opt, data, { epochs: 400, batchSize: 4, seed: 1, progress: false });
const x = backend.tensor(data.x.data, data.x.shape);
const p = net.forward(x);
const predictions = Array.from(await p.data(), (v) => (v > 0.5 ? 1 : 0));
p.dispose();
x.dispose();
report({ predictions, loss: history.loss.at(-1) }, net);
`;
  return async === 'module' ? `${preamble}\n${body}` : `${preamble}\n(async () => {\n${body}\n})().catch((e) => { console.error(e); process.exit(1); });\n`;
}
