/** The upstream client's own vocabulary, shared by both surfaces. No MCP types here. */
import type { ReasoningEffort } from './reasoning.js';

export type Surface = 'openai' | 'anthropic';
export const SURFACES: readonly Surface[] = ['openai', 'anthropic'];

export type Role = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: Role;
  content: string;
}

/** A completion request, surface-neutral; each surface adapter builds its own body from it. */
export interface CompletionRequest {
  model: string;
  messages: ChatMessage[];
  system?: string;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  userId?: string;
  /** Ask the model to think first (see reasoning.ts); absent: the model's default. */
  reasoningEffort?: ReasoningEffort;
}

/** OpenAI's words: `stop`, `length`, `tool_calls`, `content_filter` (others passed through). */
export type FinishReason = string | null;

/** Token counts as the gateway reported them; a field it did not report is absent. */
export interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  cached_tokens?: number;
}

export interface Completion {
  text: string;
  model: string;
  surface: Surface;
  finish_reason: FinishReason;
  usage: Usage;
  request_id?: string;
  /** The reasoning ("thinking") text, never part of `text`; absent when there was none. */
  reasoning?: string;
  /** The reasoning went past EZROUTER_MAX_ANSWER_CHARS: `reasoning` is its beginning, the rest was not kept. */
  reasoningTruncated?: true;
}

/** Called as answer text arrives: the new piece and the total characters so far. */
export type TextListener = (delta: string, totalChars: number) => void;
