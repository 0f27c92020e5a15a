/**
 * The `complete` tool: ask any ezrouter model and return its whole answer with usage. Three
 * ways to run it: a plain call (the answer in the result); an MCP task (the client asked for task
 * execution: status, progress, the result on tasks/result); a background job (`background: true`
 * returns a job id at once, `job_id` collects the answer later) for clients without tasks.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { REASONING_EFFORTS } from '../ezrouter/reasoning.js';
import type { HandlerContext } from '../context.js';
import { CompletionJobs } from '../tasks/completion-jobs.js';
import { RESULT_SIZE_META } from './result-size-meta.js';

/** Files per call. */
export const MAX_FILES = 32;

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
  reasoning_effort: z
    .enum(REASONING_EFFORTS)
    .optional()
    .describe('Let the model think first: ezrouter takes "high" and "max"; "low" and "medium" are sent as "high", "xhigh" as "max" (as ezrouter maps them). Slower: use with background=true for long thinking. Without it nothing changes.'),
  include_reasoning: z
    .boolean()
    .optional()
    .describe('Return the model\'s reasoning text in structuredContent.reasoning (never mixed into the answer text). Default false.'),
  files: z
    .array(z.string().min(1).max(4096))
    .max(MAX_FILES)
    .optional()
    .describe('Paths of text files the server reads and appends to the last user message, each in a fenced block labelled with its path: the model gets them without the files passing through your own context. Only inside the roots this client shares (or EZROUTER_FILE_ROOTS); relative paths start at the first root.'),
  background: z
    .boolean()
    .optional()
    .describe('Start the call as a background job and return its job id at once; collect the answer later with `job_id`. For long or thinking answers that may outlast this client\'s time limit.'),
  job_id: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe('Collect the answer of a background job started earlier (waits for it as long as this client allows; call again if it is still running). Give no prompt with it.'),
  cancel: z.boolean().optional().describe('With `job_id`: cancel that job (its upstream request is aborted).'),
};

export const completeOutput = {
  text: z.string().describe('The answer text exactly as streamed (or its exact head, see truncated).'),
  model: z.string().optional().describe('The model that answered.'),
  surface: z.enum(['openai', 'anthropic']).optional().describe('The ezrouter surface that was called.'),
  finish_reason: z.string().nullable().optional().describe('Why the answer ended: stop, length, tool_calls, content_filter; null if not reported.'),
  usage: z
    .object({
      prompt_tokens: z.number().int().min(0).optional(),
      completion_tokens: z.number().int().min(0).optional(),
      total_tokens: z.number().int().min(0).optional(),
      cached_tokens: z.number().int().min(0).optional(),
    })
    .optional()
    .describe('Token counts as ezrouter reported them.'),
  request_id: z.string().optional().describe('ezrouter request id (x-oneapi-request-id), for support.'),
  reasoning: z.string().optional().describe('The reasoning text, when include_reasoning was true (may be cut short to fit, see notes).'),
  reasoning_truncated: z
    .object({ total_chars: z.number().int().min(0), returned_chars: z.number().int().min(0), uri: z.string() })
    .optional()
    .describe('Present when the reasoning did not fit in this result: read the rest from uri with ?offset=returned_chars.'),
  notes: z.array(z.string()).optional().describe('What the caller must know: the answer stopped at max_tokens, a default was applied, the answer did not fit.'),
  truncated: z
    .object({ total_chars: z.number().int().min(0), returned_chars: z.number().int().min(0), uri: z.string() })
    .optional()
    .describe('Present when the answer did not fit in this result: read the rest from uri with ?offset=returned_chars.'),
  job: z
    .object({ id: z.string(), status: z.string(), message: z.string().optional() })
    .optional()
    .describe('A background job: its id and status (working, completed, cancelled).'),
};

const completeInputSchema = z.strictObject(completeInput);
export type CompleteArgs = z.output<typeof completeInputSchema>;

export const COMPLETE_DESCRIPTION =
  'Ask any model on the ezrouter gateway (Claude, GPT, DeepSeek, GLM, Kimi, Gemini…) and get its whole answer back, with token usage. ' +
  'Give `prompt` (one message) or `messages` (a conversation), and a `model` id from list_models. ' +
  'Use it for a second opinion, to delegate a sub-task to a cheaper or stronger model, or to compare models. ' +
  'An answer longer than this client accepts comes back as its head plus a link: read the rest with resources/read of the ezrouter://answers/… URI it names. ' +
  'To hand the model files, pass their paths as `files` instead of pasting them: the server reads them (only inside the client\'s roots) and sends them along, which saves your own context. ' +
  'For answers that may take minutes (long outputs, thinking), pass background=true to get a job id at once, then call complete with job_id to collect the answer.';

/**
 * Registers `complete` as a tool that supports MCP tasks (taskSupport "optional"). `taskCalls`
 * holds the ids of tools/call requests that asked for task execution (seen at the server's edge).
 */
export function registerCompleteTool(server: McpServer, ctx: HandlerContext, taskCalls: Set<RequestId>): void {
  const jobs = new CompletionJobs(ctx);
  server.experimental.tasks.registerToolTask(
    'complete',
    {
      title: 'Ask an ezrouter model',
      description: COMPLETE_DESCRIPTION,
      // Closed (additionalProperties: false): strict-schema clients accept it, typos are refused.
      inputSchema: completeInputSchema,
      outputSchema: completeOutput,
      annotations: { readOnlyHint: true, openWorldHint: true, idempotentHint: false, destructiveHint: false },
      execution: { taskSupport: 'optional' },
      _meta: { ...RESULT_SIZE_META },
    },
    {
      // The SDK validated the arguments against completeInputSchema; its types do not carry that through.
      createTask: async (args, extra) =>
        taskCalls.delete(extra.requestId)
          ? { task: await jobs.startTask(args as CompleteArgs, extra) }
          : { task: await jobs.plainCall(args as CompleteArgs, extra) },
      // tasks/get and tasks/result are answered from the task store by the SDK itself.
      getTask: async (_args, extra) => extra.taskStore.getTask(extra.taskId),
      getTaskResult: async (_args, extra) => extra.taskStore.getTaskResult(extra.taskId) as never,
    },
  );
}
