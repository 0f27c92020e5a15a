/**
 * Catalog resources: `ezrouter://models` (the whole catalog as JSON) and the template
 * `ezrouter://models/{id}` (one model, with the surface `auto` would pick), whose list
 * enumerates the catalog and whose `id` completes by prefix. An unknown id is -32602 with
 * `data.uri`. A catalog id that cannot be written in a URI (a lone surrogate) is left out of the
 * list, logged once, instead of breaking the list for everyone.
 */
import type { Resource } from '@modelcontextprotocol/sdk/types.js';
import { chooseSurface } from '../ezrouter/catalog.js';
import type { HandlerContext } from '../context.js';
import { publicModel } from '../mapping/public-model.js';
import { resourceNotFound } from '../mapping/resource-errors.js';
import { excerpt } from '../redact.js';
import { uriSegment, type ResourceDirectory } from './directory.js';

export const MODELS_URI = 'ezrouter://models';
export const MODEL_URI_TEMPLATE = 'ezrouter://models/{id}';
const JSON_MIME = 'application/json';
/** Ids already logged as impossible to list, so each is logged once (bounded). */
const MAX_REMEMBERED_BAD_IDS = 1000;

/** The resource URI of a model id, or undefined when the id cannot be written in one. */
export function modelUri(id: string): string | undefined {
  const segment = uriSegment(id);
  return segment === undefined ? undefined : `${MODELS_URI}/${segment}`;
}

export function addModelResources(directory: ResourceDirectory, ctx: HandlerContext): void {
  const reported = new Set<string>();
  const unlisted = (id: string): void => {
    if (reported.has(id) || reported.size >= MAX_REMEMBERED_BAD_IDS) return;
    reported.add(id);
    ctx.log.warn('a catalog model id cannot be written as a resource URI; it is left out of resources/list', { id: JSON.stringify(excerpt(id, 80)) });
  };

  directory.addResource({
    uri: MODELS_URI,
    name: 'models',
    title: 'ezrouter model catalog',
    description: 'Every model on the ezrouter gateway, with the surfaces each accepts (JSON).',
    mimeType: JSON_MIME,
    read: async (uri) => {
      const snapshot = await ctx.client.models({ timeoutMs: ctx.limits().deadlineMs });
      const body = {
        models: snapshot.models.map(publicModel),
        count: snapshot.models.length,
        fetched_at: snapshot.fetchedAt.toISOString(),
        ...(snapshot.stale ? { stale: true } : {}),
      };
      return { contents: [{ uri, mimeType: JSON_MIME, text: JSON.stringify(body, null, 2) }] };
    },
  });

  directory.addTemplate({
    name: 'model',
    uriTemplate: MODEL_URI_TEMPLATE,
    title: 'One ezrouter model',
    description: 'One model of the ezrouter catalog: its surfaces, owner label and the surface complete(surface="auto") would use (JSON).',
    mimeType: JSON_MIME,
    list: async () => {
      const resources: Resource[] = [];
      for (const m of (await ctx.client.models({ timeoutMs: ctx.limits().deadlineMs })).models) {
        const uri = modelUri(m.id);
        if (uri === undefined) {
          unlisted(m.id);
          continue;
        }
        resources.push({ uri, name: m.id, title: m.id, description: `ezrouter model ${m.id} (${m.surfaces.join(', ')})`, mimeType: JSON_MIME });
      }
      return resources;
    },
    read: async (uri, variables) => {
      const id = variables['id'] ?? '';
      const snapshot = await ctx.client.models({ timeoutMs: ctx.limits().deadlineMs });
      const model = snapshot.models.find((m) => m.id === id);
      if (!model) {
        throw resourceNotFound(uri, `No ezrouter model has the id "${excerpt(id, 80)}": read ${MODELS_URI} or call list_models for the available ids.`);
      }
      const body = {
        id: model.id,
        surfaces: [...model.surfaces],
        owned_by: model.owned_by ?? null,
        recommended_surface: chooseSurface(model.id, snapshot.models),
      };
      return { contents: [{ uri, mimeType: JSON_MIME, text: JSON.stringify(body, null, 2) }] };
    },
    complete: {
      id: async (value) => {
        const prefix = value.toLowerCase();
        return (await ctx.client.models({ timeoutMs: ctx.limits().deadlineMs })).models.filter((m) => m.id.toLowerCase().startsWith(prefix)).map((m) => m.id);
      },
    },
  });
}
