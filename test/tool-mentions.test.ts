/**
 * Hand-written text that names the tools must name every one: the built server's own
 * `tools/list` (started over stdio with the SDK client) against the README's tool table and its
 * "Tools in detail" sections, and the Claude Code plugin's and marketplace entry's descriptions.
 * (The extension's manifest builds its list from tools/list: test/mcpb.test.ts.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/** The rows of the README's first table (`| tool | what it does |`): their tool names. */
function readmeTableTools(readme: string): string[] {
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => /^\| tool \| what it does \|$/.test(l));
  expect(start, 'the README has its tool table').toBeGreaterThan(-1);
  const rows: string[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(/^\| `([^`]+)` \|/.exec(line)?.[1] ?? line);
  }
  return rows;
}

/** Whole-word mentions (`complete` must not be found inside `completes`). */
const mentions = (text: string, name: string): boolean => new RegExp(`(^|[^\\w])${name}([^\\w]|$)`).test(text);

describe('every tool the server lists is named wherever the tools are listed by hand', () => {
  let tools: string[];

  beforeAll(async () => {
    const client = new Client({ name: 'tool-mentions', version: '0' });
    await client.connect(
      new StdioClientTransport({ command: process.execPath, args: [join(ROOT, 'dist', 'cli.js')], env: { PATH: process.env['PATH'] ?? '', EZROUTER_LOG_LEVEL: 'warn' }, stderr: 'ignore' }),
    );
    try {
      tools = (await client.listTools()).tools.map((t) => t.name);
    } finally {
      await client.close();
    }
    expect(tools.length).toBeGreaterThan(0);
  }, 30_000);

  it("README: the table at the top lists exactly the server's tools, in its order, and each has a section under \"Tools in detail\"", () => {
    const readme = read('README.md');
    expect(readmeTableTools(readme)).toEqual(tools);
    for (const name of tools) expect(readme, name).toMatch(new RegExp(`^### \`${name}\`$`, 'm'));
  });

  it('.claude-plugin/plugin.json and the marketplace entry: the description names every tool', () => {
    const plugin = JSON.parse(read('.claude-plugin/plugin.json')) as { description: string };
    const marketplace = JSON.parse(read('.claude-plugin/marketplace.json')) as { plugins: { description: string }[] };
    for (const [where, text] of [['plugin.json', plugin.description], ['marketplace.json', marketplace.plugins[0]!.description]] as const) {
      expect(tools.filter((name) => !mentions(text, name)), `${where}: tools its description leaves out`).toEqual([]);
    }
  });
});
