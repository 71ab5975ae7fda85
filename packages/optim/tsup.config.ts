import { packageBuild } from '../../tsup.shared';

// src/node.ts: the Node entry (the default one plus the cli-progress bar), picked by the `node` condition
export default packageBuild(['src/index.ts', 'src/node.ts']);
