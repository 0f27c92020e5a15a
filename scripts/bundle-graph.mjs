/**
 * The import graph of the bundled command, read from esbuild's metafile (the `cli` metafile in
 * dist/bundle-meta.json). Shared by scripts/bundle.mjs (what the stdio start-up loads),
 * scripts/build-mcpb.mjs (what the Claude Desktop extension ships) and the tests.
 */

/** Every output reached from `start` through static imports (what loading it loads). */
export function staticClosure(meta, start) {
  return closure(meta, [start], (edge) => edge.kind === 'import-statement');
}

/** Every output reached from `starts` through static and dynamic imports (what running them may load). */
export function fullClosure(meta, starts) {
  return closure(meta, starts, (edge) => edge.kind === 'import-statement' || edge.kind === 'dynamic-import');
}

function closure(meta, starts, follow) {
  const seen = new Set();
  const stack = [...starts];
  while (stack.length > 0) {
    const file = stack.pop();
    if (seen.has(file)) continue;
    if (!meta.outputs[file]) throw new Error(`${file} is not an output of the bundle`);
    seen.add(file);
    for (const edge of meta.outputs[file].imports) {
      if (!edge.external && follow(edge)) stack.push(edge.path);
    }
  }
  return seen;
}

/**
 * What the stdio server can load, and nothing else: the entry with its static imports, plus the
 * stdio transport's chunk with everything it imports, statically or lazily (undici on the first
 * upstream call). The entry's other lazy imports (doctor, config, the HTTP mode) are left out.
 * Sorted paths relative to the root, e.g. `dist/chunks/stdio-XXXX.js`.
 */
export function stdioFiles(meta, entry, stdio) {
  return [...new Set([...staticClosure(meta, entry), ...fullClosure(meta, [stdio])])].sort();
}
