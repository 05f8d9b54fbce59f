/** Where the runtime finds the package's files: the command's entry point. */
import { packageRoot } from '../package-root.js';

export { packageRoot };
