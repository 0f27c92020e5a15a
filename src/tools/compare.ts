/**
 * The `compare` tool: the same prompt (or conversation, files included) sent to 2–8 models at
 * once, each blind to the others. One model failing is not the call failing: each answer is an
 * answer or an error, `isError` only when every model failed. One deadline and one cancellation
 * cover the whole call; the calls share the server's in-flight limit; the caller's size budget is
 * split fairly between the answers, with answer-store links for what does not fit.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { HandlerContext } from '../context.js';
import { EzrouterError } from '../ezrouter/errors.js';
import type { Completion, CompletionRequest, Usage } from '../ezrouter/types.js';
import { fitAnswers, type ComparedAnswer } from '../mapping/fit-compare.js';
import { failureResult, invalidRequest } from '../mapping/tool-result.js';
import { completeInput, completeOutput } from './complete.js';
import { completionNotes, MAX_MODEL_ID_CHARS, prepareRequest, reasoningCapNote } from './complete-call.js';
import { createProgressReporter } from './progress.js';
import { RESULT_SIZE_META } from './result-size-meta.js';

export const MIN_MODELS = 2;
export const MAX_MODELS = 8;

const { model: _model, background: _background, job_id: _jobId, cancel: _cancel, ...sharedInput } = completeInput;

export const compareInput = {
  ...sharedInput,
  models: z
    .array(z.string().min(1).max(MAX_MODEL_ID_CHARS))
    .min(MIN_MODELS)
    .max(MAX_MODELS)
    .describe(`${MIN_MODELS}–${MAX_MODELS} distinct ezrouter model ids (call list_models for them); each gets the same input and never sees the others' answers.`),
};

const usageSchema = completeOutput.usage.unwrap();

export const compareOutput = {
  answers: z
    .array(
      z.object({
        model: z.string(),
        surface: z.enum(['openai', 'anthropic']).optional(),
        text: z.string().optional(),
        finish_reason: z.string().nullable().optional(),
        usage: usageSchema.optional(),
        request_id: z.string().optional(),
        notes: z.array(z.string()).optional(),
        reasoning: z.string().optional(),
        truncated: z.object({ total_chars: z.number().int().min(0), returned_chars: z.number().int().min(0), uri: z.string() }).optional(),
        reasoning_truncated: z.object({ total_chars: z.number().int().min(0), returned_chars: z.number().int().min(0), uri: z.string() }).optional(),
        error: z.object({ code: z.string(), message: z.string() }).optional(),
      }),
    )
    .describe('One entry per model, in the order asked: its answer, or its error.'),
  usage: usageSchema.describe('Token counts summed over the models that answered.'),
};

const compareInputSchema = z.strictObject(compareInput);

export const COMPARE_DESCRIPTION =
  `Send the same prompt or conversation to ${MIN_MODELS}–${MAX_MODELS} ezrouter models at once and get every answer side by side, each model blind to the others. ` +
  'Use it for a second and third opinion, to cross-check a fact or a design, or to pick the best model for a task. ' +
  'Takes the same inputs as complete (prompt or messages, system, max_tokens, temperature, files…) with `models` instead of `model`. ' +
  'Pass file paths as `files` instead of pasting their text: the server reads them and sends them to every model, which saves your own context. ' +
  'One model failing does not fail the call: its entry carries the error. Answers too long for this client come back as heads with links to read the rest.';

export function registerCompareTool(server: McpServer, ctx: HandlerContext): void {
  server.registerTool(
    'compare',
    {
      title: 'Ask several ezrouter models at once',
      description: COMPARE_DESCRIPTION,
      inputSchema: compareInputSchema,
      outputSchema: compareOutput,
      annotations: { readOnlyHint: true, openWorldHint: true, idempotentHint: false, destructiveHint: false },
      _meta: { ...RESULT_SIZE_META },
    },
    async (args, extra) => {
      const models = args.models;
      if (new Set(models).size !== models.length) return invalidRequest('`models` names a model twice: give each model once.', ctx.redact);
      const request = await prepareRequest({ ...args, model: models[0] }, ctx, extra.signal);
      if (typeof request === 'string') return invalidRequest(request, ctx.redact);
      const limits = ctx.limits();
      const chars = new Map<string, number>();
      const progress = createProgressReporter(extra, `${models.length} models`, {
        describe: () => models.map((m) => `${m}: ${(chars.get(m) ?? 0).toLocaleString('en-US')}`).join(', '),
      });
      let total = 0;
      let reasoningTotal = 0;
      const settled = await Promise.allSettled(
        models.map((model) =>
          ctx.client.complete(
            { ...request, model },
            {
              surface: args.surface ?? 'auto',
              signal: extra.signal,
              timeoutMs: limits.deadlineMs,
              onText: progress.onText && ((delta, modelChars) => {
                chars.set(model, modelChars);
                total += delta.length;
                progress.onText?.(delta, total);
              }),
              onReasoning: progress.onReasoning && ((delta) => {
                reasoningTotal += delta.length;
                progress.onReasoning?.(delta, reasoningTotal);
              }),
            },
          ),
        ),
      );
      progress.finish();
      if (extra.signal.aborted) return { content: [{ type: 'text', text: 'The call was cancelled.' }], isError: true };
      const answers: ComparedAnswer[] = settled.map((outcome, i) => toAnswer(models[i]!, outcome, request, args.include_reasoning === true, ctx));
      return fitAnswers(answers, sumUsage(answers), limits.resultBytes, ctx.answers);
    },
  );
}

function toAnswer(model: string, outcome: PromiseSettledResult<Completion>, request: CompletionRequest, includeReasoning: boolean, ctx: HandlerContext): ComparedAnswer {
  if (outcome.status === 'rejected') {
    const failed = failureResult(outcome.reason, ctx.redact, ctx.log);
    const code = outcome.reason instanceof EzrouterError ? outcome.reason.code : 'internal_error';
    const message = failed.content[0]?.type === 'text' ? failed.content[0].text : 'failed';
    return { model, error: { code, message } };
  }
  const c = outcome.value;
  const notes = completionNotes(c, request, ctx);
  const capNote = includeReasoning ? reasoningCapNote(c, ctx) : undefined;
  if (capNote) notes.push(capNote);
  return {
    model,
    surface: c.surface,
    text: ctx.redact.secretOnly(c.text),
    finish_reason: c.finish_reason,
    usage: c.usage,
    ...(c.request_id ? { request_id: c.request_id } : {}),
    ...(notes.length > 0 ? { notes } : {}),
    ...(includeReasoning && c.reasoning !== undefined ? { reasoning: ctx.redact.secretOnly(c.reasoning) } : {}),
  };
}

function sumUsage(answers: readonly ComparedAnswer[]): Usage {
  const sum: Usage = {};
  for (const a of answers) {
    for (const key of ['prompt_tokens', 'completion_tokens', 'total_tokens', 'cached_tokens'] as const) {
      const v = a.usage?.[key];
      if (v !== undefined) sum[key] = (sum[key] ?? 0) + v;
    }
  }
  return sum;
}
