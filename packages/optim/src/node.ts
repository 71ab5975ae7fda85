/**
 * @neurone/optim for Node (the `node` export condition): everything of the default entry, plus
 * fit's terminal progress bar (cli-progress) on a TTY. Bundlers targeting browsers pick the
 * default entry, which has no terminal code.
 */
import { setProgressBarFactory } from './progress';
import { cliProgressBar } from './progress-node';

setProgressBarFactory(cliProgressBar);

export * from './index';
