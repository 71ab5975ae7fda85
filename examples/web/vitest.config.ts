import { packageConfig } from '../../vitest.shared';

export default packageConfig('example-web', { testTimeout: 600_000 });
