import { packageConfig } from '../../vitest.shared';

export default packageConfig('example-classify2d');
