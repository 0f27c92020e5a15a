/**
 * The server's resources, served by its own handlers for `resources/list` (paginated with MCP
 * cursors, so a huge catalog is many small messages), `resources/templates/list`,
 * `resources/read` (matched on the URI exactly as sent, query apart, so URL normalisation can
 * never turn one resource into another) and `completion/complete` (truthful `total`/`hasMore`).
 * Errors go through src/mapping/resource-errors.ts.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { UriTemplate } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
import {
  CompleteRequestSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type ReadResourceResult,
  type Resource,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../log.js';
import { invalidCursor, malformedResourceUri, resourceFailure, resourceNotFound } from '../mapping/resource-errors.js';
import type { Redactor } from '../redact.js';

/** Resources per `resources/list` page. */
export const RESOURCE_PAGE_SIZE = 500;
/** Values per completion answer (the MCP specification's maximum). */
export const MAX_COMPLETION_VALUES = 100;

export interface ResourceMeta {
  title: string;
  description: string;
  mimeType: string;
}

export interface StaticResource extends ResourceMeta {
  uri: string;
  name: string;
  read(uri: string): Promise<ReadResourceResult>;
}

export interface TemplateResource extends ResourceMeta {
  name: string;
  /** e.g. `ezrouter://models/{id}`. */
  uriTemplate: string;
  /** Every concrete resource of the template, for `resources/list` (absent: not listed). */
  list?(): Promise<Resource[]>;
  /** Reads one; `variables` are percent-decoded, `query` is the URI's query string. */
  read(uri: string, variables: Record<string, string>, query: URLSearchParams): Promise<ReadResourceResult>;
  /** Completion of a variable: every match (the directory cuts to the protocol's maximum). */
  complete?: Record<string, (value: string) => Promise<string[]>>;
}

export class ResourceDirectory {
  private readonly statics: StaticResource[] = [];
  private readonly templates: { spec: TemplateResource; matcher: UriTemplate }[] = [];

  constructor(
    private readonly redact: Redactor,
    private readonly log: Logger,
  ) {}

  addResource(resource: StaticResource): void {
    this.statics.push(resource);
  }

  addTemplate(spec: TemplateResource): void {
    this.templates.push({ spec, matcher: new UriTemplate(spec.uriTemplate) });
  }

  /** Declares the capabilities and installs the handlers (before the server connects). */
  install(server: McpServer): void {
    const low = server.server;
    low.registerCapabilities({ resources: { listChanged: true }, completions: {} });
    low.setRequestHandler(ListResourcesRequestSchema, async (request) => {
      const offset = decodeCursor(request.params?.cursor);
      const all = await this.listAll();
      const page = all.slice(offset, offset + RESOURCE_PAGE_SIZE);
      const next = offset + page.length;
      return next < all.length ? { resources: page, nextCursor: encodeCursor(next) } : { resources: page };
    });
    low.setRequestHandler(ListResourceTemplatesRequestSchema, () =>
      Promise.resolve({
        resourceTemplates: this.templates.map(({ spec }) => ({
          name: spec.name,
          uriTemplate: spec.uriTemplate,
          title: spec.title,
          description: spec.description,
          mimeType: spec.mimeType,
        })),
      }),
    );
    low.setRequestHandler(ReadResourceRequestSchema, (request) => this.read(request.params.uri));
    low.setRequestHandler(CompleteRequestSchema, async (request) => {
      const { ref, argument } = request.params;
      const template = ref.type === 'ref/resource' ? this.templates.find((t) => t.spec.uriTemplate === ref.uri) : undefined;
      if (!template) throw new McpError(ErrorCode.InvalidParams, `Nothing to complete for ${ref.type === 'ref/resource' ? 'resource template' : 'prompt'} ${ref.type === 'ref/resource' ? ref.uri : ref.name}.`);
      const completer = template.spec.complete?.[argument.name];
      const values = completer ? await completer(argument.value).catch(() => []) : [];
      return { completion: { values: values.slice(0, MAX_COMPLETION_VALUES), total: values.length, hasMore: values.length > MAX_COMPLETION_VALUES } };
    });
  }

  private async listAll(): Promise<Resource[]> {
    const all: Resource[] = this.statics.map((r) => ({ uri: r.uri, name: r.name, title: r.title, description: r.description, mimeType: r.mimeType }));
    for (const { spec } of this.templates) {
      if (!spec.list) continue;
      try {
        all.push(...(await spec.list()));
      } catch (error) {
        throw resourceFailure(error, spec.uriTemplate, this.redact);
      }
    }
    return all;
  }

  private async read(uri: string): Promise<ReadResourceResult> {
    // Parsed only to refuse what is not a URI; matching uses the text as sent.
    if (!URL.canParse(uri)) throw malformedResourceUri(uri, 'it is not a URI');
    const queryAt = uri.indexOf('?');
    const path = queryAt === -1 ? uri : uri.slice(0, queryAt);
    const query = new URLSearchParams(queryAt === -1 ? '' : uri.slice(queryAt + 1));
    try {
      const exact = this.statics.find((r) => r.uri === path);
      if (exact) return await exact.read(uri);
      for (const { spec, matcher } of this.templates) {
        const raw = matchTemplate(matcher, path);
        if (!raw) continue;
        const variables: Record<string, string> = {};
        for (const [name, value] of Object.entries(raw)) {
          const decoded = decodeComponent(Array.isArray(value) ? (value[0] ?? '') : value);
          if (decoded === undefined) throw malformedResourceUri(uri, `"${name}" has a malformed percent-escape (write each byte as %XX, UTF-8 encoded)`);
          variables[name] = decoded;
        }
        return await spec.read(uri, variables, query);
      }
    } catch (error) {
      throw resourceFailure(error, uri, this.redact);
    }
    this.log.debug('resources/read of an unknown URI', { uri: uri.slice(0, 200) });
    throw resourceNotFound(uri, 'Call resources/list (or list_models) for the resources this server has.');
  }
}

/** The URI's variables under a template, or undefined (a URI too long for the SDK's matcher included). */
function matchTemplate(matcher: UriTemplate, uri: string): Record<string, string | string[]> | undefined {
  try {
    return matcher.match(uri) ?? undefined;
  } catch {
    return undefined;
  }
}

function decodeComponent(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/**
 * One URI path segment for a value, or undefined when it cannot be one: a lone surrogate has no
 * UTF-8 form, and `.` / `..` are written %2E so that no URL normalisation removes them.
 */
export function uriSegment(value: string): string | undefined {
  let encoded: string;
  try {
    encoded = encodeURIComponent(value);
  } catch {
    return undefined;
  }
  return encoded === '.' || encoded === '..' ? encoded.replace(/\./g, '%2E') : encoded;
}

/** Cursors are opaque to clients: the offset of the next page, base64url-encoded. */
function encodeCursor(offset: number): string {
  return Buffer.from(`o:${offset}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const match = /^o:(\d{1,9})$/.exec(Buffer.from(cursor.slice(0, 64), 'base64url').toString('utf8'));
  if (!match?.[1]) throw invalidCursor();
  return Number(match[1]);
}
