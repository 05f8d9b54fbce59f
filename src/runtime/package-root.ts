/** Where the runtime finds the package's files: the generated schemas and the command's entry point. */
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';

export { packageRoot };
export const schemasDir = () => join(packageRoot(), 'schemas');
