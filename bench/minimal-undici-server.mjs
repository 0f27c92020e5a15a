/**
 * The overhead reference: a minimal SDK stdio server whose one tool, `complete`, makes the same
 * single upstream request as ezrouter-mcp's `complete` on the OpenAI surface (POST
 * {EZROUTER_BASE_URL}/v1/chat/completions, streamed) with undici, joins the deltas (TextDecoder +
 * eventsource-parser + JSON.parse per frame) and returns the text. No catalog, no retries, no
 * timers, no output schema: what any MCP bridge needs at least.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createParser } from 'eventsource-parser';
import { Agent, request } from 'undici';
import { z } from 'zod';

const base = process.env.EZROUTER_BASE_URL;
const key = process.env.EZROUTER_API_KEY;
const agent = new Agent({ keepAliveTimeout: 30_000 });

const server = new McpServer({ name: 'minimal-undici', version: '0.0.0' });
server.registerTool(
  'complete',
  {
    title: 'Complete',
    description: 'Asks a model through the gateway.',
    inputSchema: { prompt: z.string(), model: z.string(), surface: z.string().optional(), max_tokens: z.number().optional() },
  },
  async ({ prompt, model, max_tokens }, extra) => {
    const res = await request(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: prompt }], stream: true, ...(max_tokens ? { max_tokens } : {}) }),
      dispatcher: agent,
      signal: extra.signal,
    });
    const pieces = [];
    const parser = createParser({
      onEvent: (event) => {
        if (event.data === '[DONE]') return;
        const text = JSON.parse(event.data).choices?.[0]?.delta?.content;
        if (typeof text === 'string' && text !== '') pieces.push(text);
      },
    });
    const decoder = new TextDecoder();
    for await (const chunk of res.body) parser.feed(decoder.decode(chunk, { stream: true }));
    return { content: [{ type: 'text', text: pieces.join('') }] };
  },
);
await server.connect(new StdioServerTransport());
