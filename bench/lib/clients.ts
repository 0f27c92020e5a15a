/**
 * The stream readers compared in the throughput and end-to-end sections, all against the same
 * emulator response:
 * - raw:      undici `request`, every byte read and dropped (the floor);
 * - naive:    undici + TextDecoder + eventsource-parser + JSON.parse of every frame (what the
 *             product did before the fast path, and what most hand-written clients do);
 * - product:  the product's upstream client, `EzrouterClient.complete` from the build (`#internal`);
 * - openai / anthropic: the official SDKs' streaming clients.
 */
import Anthropic from '@anthropic-ai/sdk';
import { createParser } from 'eventsource-parser';
import OpenAI from 'openai';
import { Agent, request } from 'undici';
import { createDispatcher, EzrouterClient, loadConfig, silentLogger } from '#internal';

export type Surface = 'openai' | 'anthropic';

export const MODEL: Record<Surface, string> = { openai: 'gpt-5.2', anthropic: 'claude-sonnet-4-6' };
/** Large enough that the emulator never cuts an answer at max_tokens. */
export const MAX_TOKENS = 50_000_000;
export const PROMPT = 'Write the benchmark answer.';

export interface Readers {
  raw(surface: Surface): Promise<number>;
  /** The whole response body, kept (for the in-memory decoding section). */
  bytes(surface: Surface): Promise<Buffer>;
  naive(surface: Surface): Promise<string>;
  product(surface: Surface): Promise<string>;
  sdk(surface: Surface): Promise<string>;
  close(): Promise<void>;
}

/** The request every reader sends (what the SDKs send too): path, headers and body. */
export function upstream(url: string, apiKey: string, surface: Surface): { url: string; headers: Record<string, string>; body: string } {
  const body = JSON.stringify({ model: MODEL[surface], max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: PROMPT }], stream: true });
  return surface === 'openai'
    ? { url: `${url}/v1/chat/completions`, headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', accept: 'text/event-stream' }, body }
    : {
        url: `${url}/anthropic/v1/messages`,
        headers: { 'x-api-key': apiKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json', accept: 'text/event-stream' },
        body,
      };
}

export function createReaders(url: string, apiKey: string): Readers {
  const agent = new Agent({ connections: 128, keepAliveTimeout: 30_000 });
  const config = loadConfig({ EZROUTER_API_KEY: apiKey, EZROUTER_BASE_URL: url, EZROUTER_LOG_LEVEL: 'silent', EZROUTER_MAX_ANSWER_CHARS: String(32 * 1024 * 1024) });
  const dispatcher = createDispatcher(config);
  const client = new EzrouterClient({
    config,
    dispatcher,
    log: silentLogger,
    userAgent: 'ezrouter-mcp-bench',
  });
  const openai = new OpenAI({ apiKey, baseURL: `${url}/v1`, maxRetries: 0 });
  const anthropic = new Anthropic({ apiKey, baseURL: `${url}/anthropic`, maxRetries: 0 });

  return {
    async raw(surface) {
      const u = upstream(url, apiKey, surface);
      const res = await request(u.url, { method: 'POST', headers: u.headers, body: u.body, dispatcher: agent });
      let bytes = 0;
      for await (const chunk of res.body) bytes += (chunk as Buffer).length;
      return bytes;
    },

    async bytes(surface) {
      const u = upstream(url, apiKey, surface);
      const res = await request(u.url, { method: 'POST', headers: u.headers, body: u.body, dispatcher: agent });
      const pieces: Buffer[] = [];
      for await (const chunk of res.body) pieces.push(chunk as Buffer);
      return Buffer.concat(pieces);
    },

    async naive(surface) {
      const u = upstream(url, apiKey, surface);
      const res = await request(u.url, { method: 'POST', headers: u.headers, body: u.body, dispatcher: agent });
      const pieces: string[] = [];
      const parser = createParser({
        onEvent: (event) => {
          if (event.data === '[DONE]') return;
          const json = JSON.parse(event.data) as Record<string, any>;
          const text = surface === 'openai' ? json['choices']?.[0]?.delta?.content : json['delta']?.type === 'text_delta' ? json['delta'].text : undefined;
          if (typeof text === 'string' && text !== '') pieces.push(text);
        },
      });
      const decoder = new TextDecoder();
      for await (const chunk of res.body) parser.feed(decoder.decode(chunk as Buffer, { stream: true }));
      return pieces.join('');
    },

    async product(surface) {
      const completion = await client.complete(
        { model: MODEL[surface], messages: [{ role: 'user', content: PROMPT }], maxTokens: MAX_TOKENS },
        { surface },
      );
      return completion.text;
    },

    async sdk(surface) {
      const pieces: string[] = [];
      if (surface === 'openai') {
        const stream = await openai.chat.completions.create({
          model: MODEL.openai,
          max_tokens: MAX_TOKENS,
          messages: [{ role: 'user', content: PROMPT }],
          stream: true,
        });
        for await (const chunk of stream) {
          const text = chunk.choices[0]?.delta?.content;
          if (text) pieces.push(text);
        }
      } else {
        const stream = await anthropic.messages.create({
          model: MODEL.anthropic,
          max_tokens: MAX_TOKENS,
          messages: [{ role: 'user', content: PROMPT }],
          stream: true,
        });
        for await (const event of stream) {
          if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') pieces.push(event.delta.text);
        }
      }
      return pieces.join('');
    },

    async close() {
      await Promise.allSettled([agent.close(), dispatcher.close()]);
    },
  };
}
