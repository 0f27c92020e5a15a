/**
 * The package's own name and version, from its package.json (shipped with every install). Found
 * from this module's location: `dist/version.js`, the bundled chunks in `dist/chunks/`, and
 * `src/version.ts` under the tests all sit one or two levels below it.
 */
import { createRequire } from 'node:module';

interface OwnPackage {
  name: string;
  version: string;
}

function readOwnPackage(): OwnPackage {
  const require = createRequire(import.meta.url);
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const pkg = require(path) as Partial<OwnPackage>;
      if (pkg.name === 'ezrouter-mcp' && typeof pkg.version === 'string') return { name: pkg.name, version: pkg.version };
    } catch {
      // Not at this level; try the next.
    }
  }
  throw new Error('ezrouter-mcp cannot find its own package.json');
}

const pkg = readOwnPackage();

export const PACKAGE_NAME: string = pkg.name;
export const VERSION: string = pkg.version;
export const USER_AGENT = `${PACKAGE_NAME}/${VERSION} node/${process.versions.node}`;
