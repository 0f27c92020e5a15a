/** The `list_models` tool: the live ezrouter catalog, cached, filterable. */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { HandlerContext } from '../context.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { CatalogSnapshot, ModelEntry } from '../ezrouter/catalog.js';
import { messageBytes } from '../mapping/fit-result.js';
import { publicModel } from '../mapping/public-model.js';
import { failureResult } from '../mapping/tool-result.js';
import { RESULT_SIZE_META } from './result-size-meta.js';

export const listModelsInput = {
  query: z.string().optional().describe('Only models whose id contains this text (case-insensitive), e.g. "claude" or "deepseek".'),
  surface: z
    .enum(['openai', 'anthropic'])
    .optional()
    .describe('Only models that the given ezrouter surface accepts.'),
  refresh: z.boolean().optional().describe('Fetch the catalog again instead of using the cached copy.'),
};

export const listModelsOutput = {
  models: z
    .array(
      z.object({
        id: z.string(),
        surfaces: z.array(z.string()),
        owned_by: z.string().optional(),
      }),
    )
    .describe('The matching models, sorted by id.'),
  count: z.number().int().min(0).describe('How many models matched.'),
  fetched_at: z.string().describe('When the catalog was fetched from ezrouter (ISO 8601).'),
  cached: z.boolean().describe('Whether the catalog came from the cache.'),
  stale: z.boolean().optional().describe('True when a refresh failed and this is the last good copy.'),
  shown: z.number().int().min(0).optional().describe('Present when the list did not fit in this client\'s result: how many of the `count` models are listed (narrow it with query or surface).'),
};

export function registerListModelsTool(server: McpServer, ctx: HandlerContext): void {
  server.registerTool(
    'list_models',
    {
      title: 'List ezrouter models',
      description:
        'List the models available on the ezrouter gateway right now, with the surfaces (openai, anthropic) each one accepts. ' +
        'Use it to find the exact model id before calling complete, or to check whether a model exists. The list is cached for a few minutes; pass refresh=true to re-fetch.',
      inputSchema: z.strictObject(listModelsInput),
      outputSchema: listModelsOutput,
      annotations: { readOnlyHint: true, openWorldHint: true, idempotentHint: true, destructiveHint: false },
      _meta: { ...RESULT_SIZE_META },
    },
    async (args, extra) => {
      try {
        const limits = ctx.limits();
        const snapshot = await ctx.client.models({ refresh: args.refresh === true, signal: extra.signal, timeoutMs: limits.deadlineMs });
        const query = args.query?.trim().toLowerCase();
        const models = snapshot.models.filter(
          (m) => (!query || m.id.toLowerCase().includes(query)) && (!args.surface || m.surfaces.includes(args.surface)),
        );
        return fitList(models, snapshot, limits.resultBytes);
      } catch (error) {
        return failureResult(error, ctx.redact, ctx.log);
      }
    },
  );
}

/**
 * The result for the matching models, within the caller's budget: a catalog too large for one
 * result lists as many models as fit (in both copies) and says how many are left out.
 */
function fitList(models: readonly ModelEntry[], snapshot: CatalogSnapshot, budgetBytes: number): CallToolResult {
  const build = (shown: number): CallToolResult => {
    const listed = models.slice(0, shown);
    const structured: Record<string, unknown> = {
      models: listed.map(publicModel),
      count: models.length,
      fetched_at: snapshot.fetchedAt.toISOString(),
      cached: snapshot.cached,
    };
    const lines = listed.map((m) => `${m.id}  (${m.surfaces.join(', ') || 'no surface this server can call'})`);
    const header =
      models.length === snapshot.models.length ? `${models.length} ezrouter models:` : `${models.length} of ${snapshot.models.length} ezrouter models match:`;
    let text = models.length > 0 ? `${header}\n${lines.join('\n')}` : `No ezrouter model matches; the catalog has ${snapshot.models.length} models (call list_models without filters to see them).`;
    if (shown < models.length) {
      structured['shown'] = shown;
      text += `\n[ezrouter-mcp: ${models.length - shown} more models did not fit in this result: narrow the list with query (e.g. "claude") or surface.]`;
    }
    if (snapshot.stale) {
      structured['stale'] = true;
      text += `\n\nNote: refreshing the catalog failed (${snapshot.staleReason?.code ?? 'error'}), so this is the cached copy from ${snapshot.fetchedAt.toISOString()}.`;
    }
    return { content: [{ type: 'text', text }], structuredContent: structured };
  };
  const whole = build(models.length);
  if (messageBytes(whole) <= budgetBytes) return whole;
  // The most models that fit: a binary search over the count.
  let low = 0;
  let high = models.length - 1;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (messageBytes(build(mid)) <= budgetBytes) low = mid;
    else high = mid - 1;
  }
  return build(low);
}
