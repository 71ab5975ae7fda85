/**
 * The live loss and accuracy charts (uPlot). This module is imported dynamically when the first
 * losses arrive, so the page loads without the charting library.
 */
import uPlot from 'uplot';
// eslint-disable-next-line no-restricted-imports -- uPlot ships its stylesheet in dist/ only (the rule is for our packages)
import 'uplot/dist/uPlot.min.css';

export interface Charts {
  update(loss: [number[], number[], number[]], accuracy: [number[], number[]]): void;
}

export function makeCharts(lossEl: HTMLElement, accEl: HTMLElement): Charts {
  const width = Math.max(320, lossEl.clientWidth || 480);
  const axes = (y: string): uPlot.Axis[] => [{ label: 'step' }, { label: y }];
  const loss = new uPlot(
    {
      width,
      height: 200,
      title: 'training loss',
      scales: { x: { time: false } },
      axes: axes('loss'),
      series: [{ label: 'step' }, { label: 'classifier (cross-entropy)', stroke: '#2e86de' }, { label: 'autoencoder (BCE)', stroke: '#e67e22' }],
    },
    [[], [], []],
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
    update(l, a) {
      loss.setData(l);
      acc.setData(a);
    },
  };
}
