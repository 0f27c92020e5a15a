/**
 * The redactor of one HTTP request, once its caller is known: every secret the process holds
 * that could reach that request's response or log lines. That is the process key
 * (EZROUTER_API_KEY: it fetches the shared catalog, so catalog ids, `owned_by` and catalog error
 * texts can echo it to any principal), the principal's own key (its calls and balance), and the
 * bearer credential it presented (a tokens-file token, or an OAuth access token). The request's
 * logger, its MCP server's output edge (createServer's `redact`) and its error bodies all use
 * this one redactor.
 */
import type { IncomingMessage } from 'node:http';
import type { Config } from '../../config.js';
import { createRedactor, type Redactor } from '../../redact.js';
import { bearerToken, type Principal } from './auth.js';

export function requestRedactor(config: Readonly<Config>, principal: Principal, req: IncomingMessage): Redactor {
  return createRedactor(config.apiKey, principal.apiKey, bearerToken(req));
}
