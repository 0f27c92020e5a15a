/** Public API of the local ezrouter emulator. */
export { startEmulator, DEFAULT_API_KEY, DEFAULT_BALANCE } from './server.js';
export { DEFAULT_MODELS, type EmulatorModel } from './models.js';
export { defaultReply, promptTokens, splitDeltas } from './reply.js';
export { newRequestId } from './errors.js';
export type {
  Behaviour,
  Emulator,
  EmulatorOptions,
  RecordedRequest,
  ReplyRequest,
  ScriptMatch,
  StreamScript,
  Surface,
} from './types.js';
