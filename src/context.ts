/** What every tool and resource handler gets: the ezrouter client, the config, the redactor, the log. */
import type { Config } from './config.js';
import type { EzrouterClient } from './ezrouter/client.js';
import type { Logger } from './log.js';
import type { Redactor } from './redact.js';

export interface HandlerContext {
  client: EzrouterClient;
  config: Readonly<Config>;
  redact: Redactor;
  log: Logger;
}
