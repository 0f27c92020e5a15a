/**
 * The reference for `npm run bench:http`: a minimal MCP SDK Streamable HTTP server (stateless,
 * a server and transport per request, as the SDK's example does) whose one tool, `complete`,
 * makes the same single upstream request with undici and reads the SSE answer naively — the
 * same work as ezrouter-mcp's HTTP mode without any of its logic (auth, limits, redaction,
 * budgets, retries). Prints its URL on stdout. Loopback only.
 */
import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { Agent, request } from 'undici';
import { z } from 'zod';

const base = process.env.EZROUTER_BASE_URL;
const key = process.env.EZROUTER_API_KEY;
const dispatcher = new Agent({ connections: 1024 });

function mcpServer() {
  const server = new McpServer({ name: 'minimal-http', version: '0.0.0' });
  server.registerTool('complete', { inputSchema: { prompt: z.string(), model: z.string() } }, async ({ prompt, model }) => {
    const res = await request(`${base}/v1/chat/completions`, {
      method: 'POST',
      dispatcher,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: prompt }], stream: true }),
    });
    let text = '';
    let rest = '';
    for await (const chunk of res.body) {
      rest += chunk.toString('utf8');
      const lines = rest.split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
        text += JSON.parse(line.slice(6)).choices?.[0]?.delta?.content ?? '';
      }
    }
    return { content: [{ type: 'text', text }] };
  });
  return server;
}

const http = createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const server = mcpServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, JSON.parse(Buffer.concat(chunks).toString('utf8')));
});
http.listen(0, '127.0.0.1', () => process.stdout.write(`http://127.0.0.1:${http.address().port}/mcp\n`));
process.on('SIGTERM', () => process.exit(0));
