/** The `list_models` tool: the live ezrouter catalog, cached, filterable. */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { HandlerContext } from '../context.js';
import { publicModel } from '../mapping/public-model.js';
import { failureResult } from '../mapping/tool-result.js';

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
    },
    async (args) => {
      try {
        const snapshot = await ctx.client.models({ refresh: args.refresh === true });
        const query = args.query?.trim().toLowerCase();
        const models = snapshot.models.filter(
          (m) => (!query || m.id.toLowerCase().includes(query)) && (!args.surface || m.surfaces.includes(args.surface)),
        );
        const structured: Record<string, unknown> = {
          models: models.map(publicModel),
          count: models.length,
          fetched_at: snapshot.fetchedAt.toISOString(),
          cached: snapshot.cached,
        };
        const lines = models.map((m) => `${m.id}  (${m.surfaces.join(', ') || 'no surface this server can call'})`);
        const header =
          models.length === snapshot.models.length
            ? `${models.length} ezrouter models:`
            : `${models.length} of ${snapshot.models.length} ezrouter models match:`;
        let text = models.length > 0 ? `${header}\n${lines.join('\n')}` : `No ezrouter model matches; the catalog has ${snapshot.models.length} models (call list_models without filters to see them).`;
        if (snapshot.stale) {
          structured['stale'] = true;
          text += `\n\nNote: refreshing the catalog failed (${snapshot.staleReason?.code ?? 'error'}), so this is the cached copy from ${snapshot.fetchedAt.toISOString()}.`;
        }
        return { content: [{ type: 'text', text }], structuredContent: structured };
      } catch (error) {
        return failureResult(error, ctx.redact, ctx.log);
      }
    },
  );
}
