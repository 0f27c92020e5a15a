/**
 * Makes sure dist/ is current before the stdio tests spawn it: `npm test` builds first
 * (pretest), and a bare `npx vitest` rebuilds here when any source file is newer than the build.
 */
import { execSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export default function setup(): void {
  let built = 0;
  try {
    built = statSync(join(root, 'dist', 'cli.js')).mtimeMs;
  } catch {
    // Not built yet.
  }
  if (built < newestMtime(join(root, 'src'))) {
    execSync('npm run build --silent', { cwd: root, stdio: 'inherit' });
  }
}
