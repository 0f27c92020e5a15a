/**
 * Catalog resources: `ezrouter://models` (the whole catalog as JSON) and the template
 * `ezrouter://models/{id}` (one model, with the surface `auto` would pick), whose `list`
 * enumerates the catalog and whose `id` completes by prefix. An unknown id is -32602.
 */
import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { chooseSurface, type CatalogSnapshot } from '../ezrouter/catalog.js';
import { EzrouterError } from '../ezrouter/errors.js';
import type { HandlerContext } from '../context.js';
import { publicModel } from '../mapping/public-model.js';

export const MODELS_URI = 'ezrouter://models';
export const MODEL_URI_TEMPLATE = 'ezrouter://models/{id}';
const JSON_MIME = 'application/json';
/** Completion answers are capped (the MCP spec allows up to 100 values). */
const MAX_COMPLETIONS = 100;

export function modelUri(id: string): string {
  return `${MODELS_URI}/${encodeURIComponent(id)}`;
}

export function registerModelResources(server: McpServer, ctx: HandlerContext): void {
  const catalog = async (): Promise<CatalogSnapshot> => {
    try {
      return await ctx.client.models();
    } catch (error) {
      if (error instanceof EzrouterError) {
        throw new McpError(ErrorCode.InternalError, ctx.redact(`Could not fetch the ezrouter catalog: ${error.message} (ezrouter error: ${error.code})`));
      }
      throw error;
    }
  };

  server.registerResource(
    'models',
    MODELS_URI,
    {
      title: 'ezrouter model catalog',
      description: 'Every model on the ezrouter gateway, with the surfaces each accepts (JSON).',
      mimeType: JSON_MIME,
    },
    async (uri) => {
      const snapshot = await catalog();
      const body = {
        models: snapshot.models.map(publicModel),
        count: snapshot.models.length,
        fetched_at: snapshot.fetchedAt.toISOString(),
        ...(snapshot.stale ? { stale: true } : {}),
      };
      return { contents: [{ uri: uri.href, mimeType: JSON_MIME, text: JSON.stringify(body, null, 2) }] };
    },
  );

  const template = new ResourceTemplate(MODEL_URI_TEMPLATE, {
    list: async () => {
      const snapshot = await catalog();
      return {
        resources: snapshot.models.map((m) => ({
          uri: modelUri(m.id),
          name: m.id,
          title: m.id,
          description: `ezrouter model ${m.id} (${m.surfaces.join(', ')})`,
          mimeType: JSON_MIME,
        })),
      };
    },
    complete: {
      id: async (value) => {
        const prefix = value.toLowerCase();
        let models;
        try {
          models = (await ctx.client.models()).models;
        } catch {
          return [];
        }
        return models
          .filter((m) => m.id.toLowerCase().startsWith(prefix))
          .slice(0, MAX_COMPLETIONS)
          .map((m) => m.id);
      },
    },
  });

  server.registerResource(
    'model',
    template,
    {
      title: 'One ezrouter model',
      description: 'One model of the ezrouter catalog: its surfaces, owner label and the surface complete(surface="auto") would use (JSON).',
      mimeType: JSON_MIME,
    },
    async (uri, variables) => {
      const raw = variables['id'];
      const id = decodeURIComponent(Array.isArray(raw) ? (raw[0] ?? '') : (raw ?? ''));
      const snapshot = await catalog();
      const model = snapshot.models.find((m) => m.id === id);
      if (!model) {
        throw new McpError(ErrorCode.InvalidParams, `Unknown ezrouter model id "${id}": read ${MODELS_URI} or call list_models for the available ids.`);
      }
      const body = {
        id: model.id,
        surfaces: [...model.surfaces],
        owned_by: model.owned_by ?? null,
        recommended_surface: chooseSurface(model.id, snapshot.models),
      };
      return { contents: [{ uri: uri.href, mimeType: JSON_MIME, text: JSON.stringify(body, null, 2) }] };
    },
  );
}
