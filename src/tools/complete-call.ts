/**
 * One `complete` call's work, whichever way it was asked for (a plain call, an MCP task, a
 * background job): the request from the arguments, the upstream call within the caller's
 * effective deadline, the notes the caller must see (a token-limit stop, a default applied), and
 * the result fitted to the caller's budget. Never throws: every failure is a result.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { HandlerContext } from '../context.js';
import type { ChatMessage, Completion, CompletionRequest, Surface, TextListener } from '../ezrouter/types.js';
import { EzrouterError } from '../ezrouter/errors.js';
import { gatewayEffort, THINKING_DEFAULT_MAX_TOKENS, type RequestedEffort } from '../ezrouter/reasoning.js';
import { answerUri, fitAnswer, messageBytes, prefixWithin, wholeBytes, type AnswerParts } from '../mapping/fit-result.js';
import { cutReasoning, REASONING_CUT_BYTES, reasoningLink, reasoningNote } from '../mapping/fit-reasoning.js';
import { fileBlocks, readFiles } from '../files/read-files.js';
import { failureResult, invalidRequest } from '../mapping/tool-result.js';

/** Longer than any real model id (they are tens of characters); longer ones are refused unsent. */
export const MAX_MODEL_ID_CHARS = 256;

/** The arguments a completion needs (complete's inputs, without the job controls). */
export interface CompletionArgs {
  prompt?: string | undefined;
  messages?: ChatMessage[] | undefined;
  model?: string | undefined;
  system?: string | undefined;
  max_tokens?: number | undefined;
  temperature?: number | undefined;
  top_p?: number | undefined;
  stop?: string | string[] | undefined;
  surface?: Surface | 'auto' | undefined;
  files?: string[] | undefined;
  reasoning_effort?: RequestedEffort | undefined;
  include_reasoning?: boolean | undefined;
}

export interface CallRun {
  signal: AbortSignal;
  onText?: TextListener | undefined;
  onReasoning?: TextListener | undefined;
  /**
   * Detached from the request (an MCP task, a background job): nobody is waiting under the
   * client's time limit, so only EZROUTER_TIMEOUT_MS bounds the call.
   */
  detached?: boolean;
}

/** Runs the completion and returns its result, fitted to the caller's budget. */
export async function runCompletion(args: CompletionArgs, ctx: HandlerContext, run: CallRun): Promise<CallToolResult> {
  const request = await prepareRequest(args, ctx, run.signal);
  if (typeof request === 'string') return invalidRequest(request, ctx.redact);
  const limits = ctx.limits();
  ctx.log.debug('effective limits for this call', {
    client: limits.client,
    deadlineMs: run.detached ? ctx.config.timeoutMs : limits.deadlineMs,
    resultBytes: limits.resultBytes,
  });
  try {
    const completion = await ctx.client.complete(request, {
      surface: args.surface ?? 'auto',
      signal: run.signal,
      onText: run.onText,
      onReasoning: run.onReasoning,
      timeoutMs: run.detached ? ctx.config.timeoutMs : limits.deadlineMs,
    });
    return await successResult(completion, request, args.include_reasoning === true, ctx, limits.resultBytes);
  } catch (error) {
    return fitFailure(failureResult(error, ctx.redact, ctx.log), error, ctx, limits.resultBytes);
  }
}

/** The request for the arguments, with the `files` read and appended to the last user message; a string says what is wrong. */
export async function prepareRequest(args: CompletionArgs, ctx: HandlerContext, signal: AbortSignal): Promise<CompletionRequest | string> {
  const request = toRequest(args, ctx);
  if (typeof request === 'string' || args.files === undefined || args.files.length === 0) return request;
  const allowed = await ctx.files.current(signal);
  if ('refusal' in allowed) return allowed.refusal;
  const files = await readFiles(args.files, allowed.roots, ctx.config);
  if (typeof files === 'string') return `${files} (Files may come from ${allowed.from}.)`;
  const last = request.messages.map((m) => m.role).lastIndexOf('user');
  const message = request.messages[last];
  if (message) request.messages[last] = { ...message, content: `${message.content}\n\n${fileBlocks(files)}` };
  else request.messages.push({ role: 'user', content: fileBlocks(files) });
  return request;
}

/** Checks the schema cannot express (exactly one of prompt/messages, a model) and builds the request. */
export function toRequest(args: CompletionArgs, ctx: HandlerContext): CompletionRequest | string {
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
  const messages: ChatMessage[] = args.messages ? args.messages.map((m) => ({ ...m })) : [{ role: 'user', content: args.prompt ?? '' }];
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
  if (args.reasoning_effort !== undefined) request.reasoningEffort = gatewayEffort(args.reasoning_effort);
  return request;
}

async function successResult(completion: Completion, request: CompletionRequest, includeReasoning: boolean, ctx: HandlerContext, budget: number): Promise<CallToolResult> {
  const { text, reasoning, reasoningTruncated: _cut, ...fields } = completion;
  const notes = completionNotes(completion, request, ctx);
  // Redacted here as well as at the edge: the budget is measured on the text as it will be sent
  // (a whole-token mask can be longer than a short key), and the answer store keeps no key.
  const parts: AnswerParts = { text: ctx.redact.secretOnly(text), fields: { ...fields }, notes, summary: summary(completion), model: completion.model };
  if (includeReasoning && reasoning !== undefined) await addReasoning(parts, ctx.redact.secretOnly(reasoning), completion, ctx, budget);
  return fitAnswer(parts, budget, ctx.answers);
}

/**
 * The reasoning counts against the budget, after the answer text: it gets the room the whole
 * text leaves (at least a quarter of the budget); past that its head is returned and the whole
 * of it is stored and linked.
 */
async function addReasoning(parts: AnswerParts, reasoning: string, completion: Completion, ctx: HandlerContext, budget: number): Promise<void> {
  const capNote = reasoningCapNote(completion, ctx);
  if (capNote) parts.notes.push(capNote);
  const withAll: AnswerParts = { ...parts, fields: { ...parts.fields, reasoning } };
  if (wholeBytes(withAll) <= budget) {
    parts.fields = withAll.fields;
    return;
  }
  const room = Math.max(Math.floor(budget / 4), budget - wholeBytes(parts) - REASONING_CUT_BYTES);
  const { reasoning: head, cut } = await cutReasoning(reasoning, room, ctx.answers, completion.model);
  parts.fields = { ...parts.fields, reasoning: head, ...(cut ? { reasoning_truncated: cut } : {}) };
  if (cut) {
    parts.notes.push(reasoningNote(cut));
    parts.links = [reasoningLink(cut)];
  }
}

/** The note for reasoning the server stopped keeping at EZROUTER_MAX_ANSWER_CHARS (never silent). */
export function reasoningCapNote(completion: Completion, ctx: HandlerContext): string | undefined {
  if (!completion.reasoningTruncated) return undefined;
  const max = ctx.config.maxAnswerChars.toLocaleString('en-US');
  return `The model's reasoning went past EZROUTER_MAX_ANSWER_CHARS (${max} characters): only its first ${max} characters were kept, the rest is lost. Raise EZROUTER_MAX_ANSWER_CHARS to keep more.`;
}

/**
 * What the caller must know about how the answer ended: a stop at the token limit is never
 * silent, and says when the limit was this server's own Anthropic-surface default.
 */
export function completionNotes(completion: Completion, request: CompletionRequest, ctx: HandlerContext): string[] {
  if (completion.finish_reason !== 'length') return [];
  if (request.maxTokens !== undefined) {
    return [`The model stopped at the max_tokens limit (${request.maxTokens} tokens), so the answer is cut short: raise max_tokens for a longer answer.`];
  }
  if (completion.surface === 'anthropic' && request.reasoningEffort !== undefined) {
    return [`The model stopped at max_tokens ${THINKING_DEFAULT_MAX_TOKENS[request.reasoningEffort]}, the default this server sends with reasoning_effort "${request.reasoningEffort}" on the Anthropic surface when the call gives none, so the answer is cut short: pass a larger max_tokens.`];
  }
  if (completion.surface === 'anthropic') {
    return [`The model stopped at max_tokens ${ctx.config.anthropicMaxTokens}, the default this server sends on the Anthropic surface when the call gives none (EZROUTER_ANTHROPIC_MAX_TOKENS), so the answer is cut short: pass a larger max_tokens.`];
  }
  return ['The model stopped at its token limit, so the answer is cut short: pass a larger max_tokens, or ask for a shorter answer.'];
}

/** One line of metadata for clients that do not show structuredContent. */
export function summary(c: Completion): string {
  const parts = [`model: ${c.model}`, `surface: ${c.surface}`, `finish: ${c.finish_reason ?? 'unknown'}`];
  const u = c.usage;
  if (u.prompt_tokens !== undefined || u.completion_tokens !== undefined) {
    parts.push(`tokens: ${u.prompt_tokens ?? '?'} in / ${u.completion_tokens ?? '?'} out${u.cached_tokens ? ` (${u.cached_tokens} cached)` : ''}`);
  }
  if (c.request_id) parts.push(`request id: ${c.request_id}`);
  return `[ezrouter ${parts.join(' · ')}]`;
}

/**
 * An error result whose partial answer (content[1]) is larger than the budget: the partial
 * answer is kept whole in the answer store, and the result carries its head and a link.
 */
async function fitFailure(result: CallToolResult, error: unknown, ctx: HandlerContext, budget: number): Promise<CallToolResult> {
  if (messageBytes(result) <= budget || !(error instanceof EzrouterError) || !error.partialText) return result;
  const partial = ctx.redact.secretOnly(error.partialText);
  const uri = answerUri(await ctx.answers.put({ text: partial, model: 'partial answer' }));
  const [first] = result.content;
  const introduction = `INCOMPLETE ANSWER (${partial.length} characters received before the failure; the rest is missing). Only its first part fits here; read it whole with resources/read of ${uri}?offset=0.`;
  const shell: CallToolResult = { ...result, content: [first!, { type: 'text', text: `${introduction}\n\n` }, { type: 'resource_link', uri, name: 'the partial answer', mimeType: 'text/plain' }] };
  const head = prefixWithin(partial, Math.max(0, budget - messageBytes(shell)));
  return { ...shell, content: [first!, { type: 'text', text: `${introduction}\n\n${head}` }, shell.content[2]!] };
}
