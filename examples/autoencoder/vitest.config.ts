import { packageConfig } from '../../vitest.shared';

// the command-line tests train in a child process: on a loaded CI machine a short run takes minutes
export default packageConfig('example-autoencoder', { testTimeout: 660_000 });
