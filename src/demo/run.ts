/**
 * `npm run demo`: the whole round trip with no API key. Starts the bundled ezrouter emulator on
 * loopback, launches the built server over stdio exactly as an MCP client would (through the SDK
 * client), and prints a readable transcript of list_models, complete on both surfaces (with
 * progress), get_balance and one failing call.
 *
 * This is a program for people, so it writes to stdout; it is not part of the server.
 */
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startEmulator } from '../emulator/index.js';

const serverEntry = fileURLToPath(new URL('../cli.js', import.meta.url));
const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};
const rule = (title: string): void => out(`\n── ${title} ${'─'.repeat(Math.max(0, 66 - title.length))}`);

async function main(): Promise<void> {
  const emulator = await startEmulator({ chunkChars: 3 });
  out(`ezrouter emulator listening on ${emulator.url} (a local stand-in for the real gateway)`);

  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [serverEntry],
    env: {
      ...(process.env as Record<string, string>),
      EZROUTER_API_KEY: emulator.apiKey,
      EZROUTER_BASE_URL: emulator.url,
      EZROUTER_LOG_LEVEL: 'warn',
    },
    stderr: 'inherit',
  });
  const client = new Client({ name: 'ezrouter-mcp-demo', version: '1.0.0' });
  try {
    await client.connect(transport);
    const info = client.getServerVersion();
    out(`connected over stdio to ${info?.name} ${info?.version}`);

    rule('tools/list');
    for (const tool of (await client.listTools()).tools) out(`• ${tool.name} — ${tool.title}`);

    rule('list_models {query: "claude"}');
    show(await call(client, 'list_models', { query: 'claude' }));

    for (const [label, model] of [
      ['OpenAI surface', 'deepseek-v4-flash'],
      ['Anthropic surface', 'claude-sonnet-4-6'],
    ] as const) {
      rule(`complete on the ${label} (${model})`);
      const prompt = 'Summarise what an LLM gateway does in one sentence.';
      out(`> ${prompt}`);
      // Slow the emulator down so progress notifications are visible.
      emulator.script({ kind: 'stream', frameDelayMs: 12, chunkChars: 3, reasoning: model.startsWith('deepseek') ? 'thinking…' : undefined });
      const result = await call(client, 'complete', { prompt, model }, (progress, message) =>
        out(`  ⋯ progress ${progress}${message ? ` (${message})` : ''}`),
      );
      show(result);
    }

    rule('get_balance');
    show(await call(client, 'get_balance', {}));

    rule('a failing call: complete with a model that does not exist');
    show(await call(client, 'complete', { prompt: 'hello', model: 'claude-sonet-4.6' }));

    rule('resource ezrouter://models/claude-opus-4-7');
    const resource = await client.readResource({ uri: 'ezrouter://models/claude-opus-4-7' });
    const first = resource.contents[0];
    out(first && 'text' in first ? first.text : '(no text)');

    out(`\nDone: ${emulator.requests.length} requests reached the emulator. Set EZROUTER_API_KEY and point your MCP client at \`npx -y ezrouter-mcp\` to use the real gateway.`);
  } finally {
    await client.close();
    await emulator.close();
  }
}

function call(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  onProgress?: (progress: number, message?: string) => void,
): Promise<CallToolResult> {
  return client.callTool(
    { name, arguments: args },
    undefined,
    onProgress ? { onprogress: (p) => onProgress(p.progress, p.message) } : undefined,
  ) as Promise<CallToolResult>;
}

function show(result: CallToolResult): void {
  for (const block of result.content) if (block.type === 'text') out(block.text);
  const meta = (result._meta as { error?: unknown } | undefined)?.error;
  if (result.isError) out(`isError: true, _meta.error = ${JSON.stringify(meta)}`);
  else if (result.structuredContent && 'usage' in result.structuredContent) {
    out(`structuredContent.usage = ${JSON.stringify(result.structuredContent['usage'])}`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
