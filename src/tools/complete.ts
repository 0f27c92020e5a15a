/** The `complete` tool: ask any ezrouter model and return its whole answer with usage. */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { ChatMessage, Completion, CompletionRequest } from '../ezrouter/types.js';
import type { HandlerContext } from '../context.js';
import { createProgressReporter } from './progress.js';
import { failureResult, invalidRequest } from '../mapping/tool-result.js';

/** Longer than any real model id (they are tens of characters); longer ones are refused unsent. */
export const MAX_MODEL_ID_CHARS = 256;

const messageSchema = z.strictObject({
  role: z.enum(['system', 'user', 'assistant']).describe('Who said it.'),
  content: z.string().describe('The message text.'),
});

export const completeInput = {
  prompt: z
    .string()
    .optional()
    .describe('A single user message. Give either `prompt` or `messages`, not both.'),
  messages: z
    .array(messageSchema)
    .min(1)
    .optional()
    .describe('A whole conversation, oldest first, for multi-turn context. Give either `prompt` or `messages`, not both.'),
  model: z
    .string()
    .min(1)
    .optional()
    .describe('ezrouter model id, e.g. "claude-sonnet-4-6" or "deepseek-v4-flash" (call list_models for the live list). Defaults to EZROUTER_DEFAULT_MODEL.'),
  system: z.string().optional().describe('System prompt: instructions for the model, added before any `system` messages.'),
  max_tokens: z.number().int().min(1).optional().describe('Upper bound on the answer length, in tokens.'),
  temperature: z.number().min(0).max(2).optional().describe('Sampling temperature, 0–2: lower is more deterministic.'),
  top_p: z.number().min(0).max(1).optional().describe('Nucleus sampling, 0–1.'),
  stop: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .describe('Stop sequence(s): the answer ends before the first one.'),
  surface: z
    .enum(['auto', 'openai', 'anthropic'])
    .optional()
    .describe('Which ezrouter API to call. "auto" (default) uses the Anthropic surface for claude models that support it, else the OpenAI surface.'),
};

export const completeOutput = {
  text: z.string().describe('The whole answer text.'),
  model: z.string().describe('The model that answered.'),
  surface: z.enum(['openai', 'anthropic']).describe('The ezrouter surface that was called.'),
  finish_reason: z.string().nullable().describe('Why the answer ended: stop, length, tool_calls, content_filter; null if not reported.'),
  usage: z
    .object({
      prompt_tokens: z.number().int().min(0).optional(),
      completion_tokens: z.number().int().min(0).optional(),
      total_tokens: z.number().int().min(0).optional(),
      cached_tokens: z.number().int().min(0).optional(),
    })
    .describe('Token counts as ezrouter reported them.'),
  request_id: z.string().optional().describe('ezrouter request id (x-oneapi-request-id), for support.'),
};

const completeInputSchema = z.strictObject(completeInput);
type CompleteArgs = z.output<typeof completeInputSchema>;

export function registerCompleteTool(server: McpServer, ctx: HandlerContext): void {
  server.registerTool(
    'complete',
    {
      title: 'Ask an ezrouter model',
      description:
        'Send a prompt or a conversation to any model on the ezrouter gateway (Claude, GPT, DeepSeek, GLM, Kimi, Gemini…) and get its whole answer back, with token usage. ' +
        'Use it for a second opinion, to delegate a sub-task to a cheaper or stronger model, or to compare models. ' +
        'Call list_models first if you do not know the exact model id. Long answers stream; progress is reported while they do.',
      // Closed (additionalProperties: false): strict-schema clients accept it, typos are refused.
      inputSchema: completeInputSchema,
      outputSchema: completeOutput,
      annotations: { readOnlyHint: true, openWorldHint: true, idempotentHint: false, destructiveHint: false },
    },
    async (args, extra) => {
      const request = toRequest(args, ctx);
      if (typeof request === 'string') return invalidRequest(request, ctx.redact);
      const progress = createProgressReporter(extra, request.model);
      try {
        const completion = await ctx.client.complete(request, {
          surface: args.surface ?? 'auto',
          signal: extra.signal,
          onText: progress.onText,
        });
        progress.finish();
        return successResult(completion, ctx);
      } catch (error) {
        progress.finish();
        return failureResult(error, ctx.redact, ctx.log);
      }
    },
  );
}

/** Checks the schema cannot express (exactly one of prompt/messages, a model) and builds the request. */
function toRequest(args: CompleteArgs, ctx: HandlerContext): CompletionRequest | string {
  if (args.prompt !== undefined && args.messages !== undefined) {
    return 'Give either `prompt` or `messages`, not both.';
  }
  if (args.prompt === undefined && args.messages === undefined) {
    return 'Give the question as `prompt` (one user message) or `messages` (a conversation).';
  }
  const model = args.model ?? ctx.config.defaultModel;
  if (!model) {
    return 'No model given: pass `model` (call list_models to choose one) or set EZROUTER_DEFAULT_MODEL in the server\'s environment.';
  }
  if (model.length > MAX_MODEL_ID_CHARS) {
    return `\`model\` is ${model.length} characters long, far longer than any ezrouter model id: call list_models for the ids.`;
  }
  const messages: ChatMessage[] = args.messages ?? [{ role: 'user', content: args.prompt ?? '' }];
  if (!messages.some((m) => m.role !== 'system')) {
    return '`messages` holds only system messages: add at least one user message.';
  }
  const request: CompletionRequest = { model, messages };
  if (args.system !== undefined) request.system = args.system;
  if (args.max_tokens !== undefined) request.maxTokens = args.max_tokens;
  if (args.temperature !== undefined) request.temperature = args.temperature;
  if (args.top_p !== undefined) request.topP = args.top_p;
  if (args.stop !== undefined) request.stop = Array.isArray(args.stop) ? args.stop : [args.stop];
  if (ctx.config.userId !== undefined) request.userId = ctx.config.userId;
  return request;
}

function successResult(completion: Completion, ctx: HandlerContext): CallToolResult {
  const text = ctx.redact.secretOnly(completion.text);
  const structured = { ...completion, text };
  return {
    content: [
      { type: 'text', text },
      { type: 'text', text: summary(completion) },
    ],
    structuredContent: structured,
  };
}

/** One line of metadata for clients that do not show structuredContent. */
function summary(c: Completion): string {
  const parts = [`model: ${c.model}`, `surface: ${c.surface}`, `finish: ${c.finish_reason ?? 'unknown'}`];
  const u = c.usage;
  if (u.prompt_tokens !== undefined || u.completion_tokens !== undefined) {
    parts.push(`tokens: ${u.prompt_tokens ?? '?'} in / ${u.completion_tokens ?? '?'} out${u.cached_tokens ? ` (${u.cached_tokens} cached)` : ''}`);
  }
  if (c.request_id) parts.push(`request id: ${c.request_id}`);
  return `[ezrouter ${parts.join(' · ')}]`;
}
