/** The `get_balance` tool: the ezrouter account balance, exactly as the gateway reports it. */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { HandlerContext } from '../context.js';
import { fitBalance } from '../mapping/fit-balance.js';
import { failureResult } from '../mapping/tool-result.js';
import { excerpt } from '../redact.js';
import { RESULT_SIZE_META } from './result-size-meta.js';

export const getBalanceOutput = {
  balance: z.number().nullable().describe('The balance amount, or null when the response shape was not recognised.'),
  currency: z.string().nullable().describe('The currency, when ezrouter said it.'),
  raw: z.unknown().optional().describe('The JSON body ezrouter returned, unmodified; left out (see notes) when it does not fit in this client\'s result.'),
  notes: z.array(z.string()).optional().describe('Present when the raw body was left out to fit: where to read it.'),
};

/** The raw body is shown in text up to this many characters. */
const RAW_TEXT_LIMIT = 500;

export function registerGetBalanceTool(server: McpServer, ctx: HandlerContext): void {
  server.registerTool(
    'get_balance',
    {
      title: 'Show the ezrouter balance',
      description:
        'Show the remaining balance of the ezrouter account behind this server. Use it when the user asks about credit or cost, or after an insufficient_balance error.',
      inputSchema: z.strictObject({}),
      outputSchema: getBalanceOutput,
      annotations: { readOnlyHint: true, openWorldHint: true, idempotentHint: true, destructiveHint: false },
      _meta: { ...RESULT_SIZE_META },
    },
    async (_args, extra) => {
      try {
        const limits = ctx.limits();
        const result = await ctx.client.balance(extra.signal, limits.deadlineMs);
        const raw = ctx.redact(JSON.stringify(result.raw) ?? 'null');
        const shownRaw = raw.length > RAW_TEXT_LIMIT ? `${raw.slice(0, RAW_TEXT_LIMIT)}…` : raw;
        const text =
          result.balance === null
            ? `ezrouter answered the balance request in a shape this server does not recognise, so no amount is shown. Raw response: ${shownRaw}`
            : `ezrouter balance: ${result.balance}${result.currency ? ` ${excerpt(result.currency, 16)}` : ' (currency not stated)'}.`;
        return await fitBalance({ text, balance: result.balance, currency: result.currency, raw }, limits.resultBytes, ctx.answers);
      } catch (error) {
        return failureResult(error, ctx.redact, ctx.log);
      }
    },
  );
}
