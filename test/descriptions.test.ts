/**
 * Tool descriptions and the server instructions stay under 2,048 characters (Claude Code cuts
 * longer ones), and the first sentence says what the tool is for.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';

const LIMIT = 2048;
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('descriptions fit Claude Code', () => {
  it('every tool description, and the server instructions, are under 2,048 characters', async () => {
    const { tools } = await h.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['compare', 'complete', 'get_balance', 'list_models']);
    for (const tool of tools) {
      expect(tool.description?.length ?? 0, tool.name).toBeLessThan(LIMIT);
      expect(tool.description, tool.name).toMatch(/^[A-Z][^.]{20,}\./);
    }
    // Issue 11.3: both tools that take `files` say it saves the assistant's context.
    for (const name of ['complete', 'compare']) {
      expect(tools.find((t) => t.name === name)?.description, name).toMatch(/`files`[^.]*saves your own context/);
    }
    const instructions = h.client.getInstructions() ?? '';
    expect(instructions.length).toBeGreaterThan(200);
    expect(instructions.length).toBeLessThan(LIMIT);
    const size = Buffer.byteLength(JSON.stringify({ tools }));
    console.log(`tools/list: ${tools.length} tools, ${size} bytes; instructions ${instructions.length} characters; descriptions ${tools.map((t) => `${t.name} ${t.description?.length}`).join(', ')}`);
  });
});
