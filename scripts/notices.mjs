/**
 * THIRD_PARTY_NOTICES.md: name, version, licence and the licence text of every package whose
 * code a set of bundled files holds. scripts/bundle.mjs writes the package's (every file of the
 * command); scripts/build-mcpb.mjs writes the extension's (only the files it ships).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';

const LICENCE_FILE = /^(licen[cs]e|copying|notice)(\.(md|txt|markdown|mit|bsd))?$/i;

/** A metafile input as a path relative to `root` (a plugin's namespace prefix dropped). */
export function inputPath(root, input) {
  const path = input.replace(/^[\w-]+:/, '');
  return isAbsolute(path) ? relative(root, path).split(sep).join('/') : path;
}

/** `node_modules/@scope/name/lib/x.js` → `@scope/name` (the innermost node_modules wins). */
export function packageOf(root, input) {
  const parts = inputPath(root, input).split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at === -1) return undefined;
  const first = parts[at + 1];
  return first?.startsWith('@') ? `${first}/${parts[at + 2]}` : first;
}

/** The directory of a bundled input's package (nested installs keep their own path). */
function packageDirOf(root, input) {
  const parts = inputPath(root, input).split('/');
  const at = parts.lastIndexOf('node_modules');
  const depth = parts[at + 1]?.startsWith('@') ? 3 : 2;
  return join(root, ...parts.slice(0, at + depth));
}

/**
 * The packages behind `inputs` (metafile input paths), sorted, each with its licence; throws when
 * a package has neither a licence file nor a `license` in its package.json.
 */
export function bundledPackages(root, inputs) {
  const packages = new Map();
  for (const input of inputs) {
    if (!packageOf(root, input)) continue;
    const dir = packageDirOf(root, input);
    if (packages.has(dir)) continue;
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const files = readdirSync(dir).filter((f) => LICENCE_FILE.test(f)).sort();
    const licence = typeof pkg.license === 'string' ? pkg.license : pkg.license?.type;
    if (files.length === 0 && !licence) throw new Error(`${pkg.name} has no licence file and no "license" in its package.json`);
    const url = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
    packages.set(dir, { name: pkg.name, version: pkg.version, licence: licence ?? 'see below', files, dir, repo: url ? url.replace(/^git\+/, '').replace(/\.git$/, '') : (pkg.homepage ?? '') });
  }
  return [...packages.values()].sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}

/** The notices document for `packages`, after `intro` (lines). */
export function noticesText(packages, intro) {
  const lines = ['# Third-party notices', '', ...intro, '', '| package | version | licence |', '|---|---|---|', ...packages.map((p) => `| ${p.name} | ${p.version} | ${p.licence} |`), ''];
  for (const p of packages) {
    lines.push('---', '', `## ${p.name} ${p.version}`, '', `Licence: ${p.licence}${p.repo ? ` · ${p.repo}` : ''}`, '');
    if (p.files.length === 0) lines.push(`(The package ships no licence file; its package.json declares ${p.licence}.)`, '');
    for (const file of p.files) lines.push('```text', readFileSync(join(p.dir, file), 'utf8').replace(/\s+$/, ''), '```', '');
  }
  return lines.join('\n');
}
