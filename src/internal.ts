/**
 * The internal entry of the package, for the benchmarks (`#internal` in package.json's
 * `imports`): the pieces they drive directly, without the MCP layer. Not part of the public API
 * (package.json's `exports` does not list it, and the published package leaves it out).
 */
export { loadConfig } from './config.js';
export { EzrouterClient } from './ezrouter/client.js';
export { decodeStream, type DecodedStream, type DecodeStreamOptions } from './ezrouter/decode-stream.js';
export { createDispatcher } from './ezrouter/dispatcher.js';
export { silentLogger } from './log.js';
