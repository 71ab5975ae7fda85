/**
 * The live loss and accuracy charts (uPlot). This module is imported dynamically when the first
 * losses arrive, so the page loads without the charting library.
 */
import uPlot from 'uplot';
// eslint-disable-next-line no-restricted-imports -- uPlot ships its stylesheet in dist/ only (the rule is for our packages)
import 'uplot/dist/uPlot.min.css';
import { BACKENDS } from './protocol';
import type { BackendKind } from './protocol';

export interface Charts {
  update(steps: readonly { step: number; loss: number; aeLoss: number; backend: BackendKind }[], evals: readonly { step: number; accuracy: number }[]): void;
}

const COLORS: Record<BackendKind, string> = { cpu: '#2e86de', webgl2: '#c0392b', webgpu: '#8e44ad' };

export function makeCharts(lossEl: HTMLElement, accEl: HTMLElement): Charts {
  const width = Math.max(320, lossEl.clientWidth || 480);
  const axes = (y: string): uPlot.Axis[] => [{ label: 'step' }, { label: y }];
  // one classifier series per backend, so that a switch shows as a change of colour on one curve
  const loss = new uPlot(
    {
      width,
      height: 200,
      title: 'training loss',
      scales: { x: { time: false } },
      axes: axes('loss'),
      series: [
        { label: 'step' },
        ...BACKENDS.map((k) => ({ label: `classifier on ${k}`, stroke: COLORS[k] })),
        { label: 'autoencoder (BCE)', stroke: '#e67e22' },
      ],
    },
    [[], [], [], [], []],
    lossEl,
  );
  const acc = new uPlot(
    {
      width,
      height: 200,
      title: 'test accuracy',
      scales: { x: { time: false }, y: { range: [0, 1] } },
      axes: axes('accuracy'),
      series: [{ label: 'step' }, { label: 'accuracy', stroke: '#27ae60', points: { show: true } }],
    },
    [[], []],
    accEl,
  );
  return {
    update(steps, evals) {
      const perBackend = BACKENDS.map((k) => steps.map((p, i) => (p.backend === k || steps[i + 1]?.backend === k ? p.loss : null)));
      loss.setData([steps.map((p) => p.step), ...perBackend, steps.map((p) => p.aeLoss)] as uPlot.AlignedData);
      acc.setData([evals.map((e) => e.step), evals.map((e) => e.accuracy)]);
    },
  };
}
