/**
 * Memory of the upstream side alone, in a fresh process (no MCP, no stdio): the product's
 * EzrouterClient (the build, through `#internal`) or the raw floor (undici, bytes dropped) reading one answer. Talks to
 * the bench over IPC: after a small warm-up call it sends {ready, hwm}; on 'go' it makes the
 * big call (already scripted by the bench) and sends {peak, chars}.
 */
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { createDispatcher, EzrouterClient, loadConfig, silentLogger } from '#internal';

const [url, apiKey, mode] = process.argv.slice(2);
const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
const config = loadConfig({ EZROUTER_API_KEY: apiKey, EZROUTER_BASE_URL: url, EZROUTER_MAX_ANSWER_CHARS: String(32 * 1024 * 1024) });
const dispatcher = createDispatcher(config);
const client = new EzrouterClient({ config, dispatcher, log: silentLogger, userAgent: 'bench' });

async function call(maxTokens) {
  if (mode === 'raw') {
    const body = JSON.stringify({ model: 'gpt-5.2', max_tokens: maxTokens, messages: [{ role: 'user', content: 'x' }], stream: true });
    const res = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body,
      dispatcher,
    });
    let bytes = 0;
    for await (const chunk of res.body) bytes += chunk.length;
    return bytes;
  }
  const completion = await client.complete({ model: 'gpt-5.2', messages: [{ role: 'user', content: 'x' }], maxTokens }, { surface: 'openai' });
  return completion.text.length;
}

await call(undefined);
process.send({ type: 'ready', hwm: hwm() });
process.once('message', async () => {
  const chars = await call(50_000_000);
  process.send({ type: 'done', peak: hwm(), chars });
  await dispatcher.close();
  process.exit(0);
});
