import { CpuKernels } from '@neurone/backend-cpu';
import { w3Neurone } from './w3';
const proto = CpuKernels.prototype as unknown as { bce?: unknown };
const fused = proto.bce;
const t = Number(process.argv[2] ?? 1);
for (const mode of ['chain', 'fused', 'chain', 'fused', 'chain', 'fused', 'chain', 'fused']) {
  if (mode === 'chain') delete proto.bce;
  else proto.bce = fused;
  const r = await w3Neurone(t);
  console.log(mode, Math.round(r.samplesPerSecond), r.bce);
}
