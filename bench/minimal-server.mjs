/**
 * The cold-start reference: a minimal one-tool MCP server on the same SDK as ezrouter-mcp
 * (McpServer + StdioServerTransport + a zod input schema), run with plain node like dist/cli.js.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'minimal', version: '0.0.0' });
server.registerTool(
  'echo',
  { title: 'Echo', description: 'Returns its input.', inputSchema: { text: z.string().describe('Text to echo.') } },
  async ({ text }) => ({ content: [{ type: 'text', text }] }),
);
await server.connect(new StdioServerTransport());
