import { packageBuild } from '../../tsup.shared';

// index: Node and the `./threads` entry (the thread pool); browser: the `browser` condition of `.` (one thread)
export default packageBuild(['src/index.ts', 'src/browser.ts']);
