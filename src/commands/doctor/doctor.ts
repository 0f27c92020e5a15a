/**
 * `ezrouter-mcp doctor`: configuration -> gateway -> key -> catalog -> balance, each timed,
 * printed as it completes, then a verdict. Exit 0 when all is well (warnings allowed), 1 when a
 * check failed, 2 when a configuration value is invalid. The key is never printed: every line
 * goes through the redactor, and the report shows only its masked form.
 */
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { ConfigError, loadConfig, type Config, type Env } from '../../config.js';
import { EzrouterClient } from '../../ezrouter/client.js';
import { createDispatcher } from '../../ezrouter/dispatcher.js';
import { silentLogger } from '../../log.js';
import { createRedactor, type Redactor } from '../../redact.js';
import { USER_AGENT, VERSION } from '../../version.js';
import { checkBalance, checkCatalog, checkConfiguration, checkGateway, checkKey } from './checks.js';
import { renderCheck, verdict, type CheckResult } from './report.js';

export interface DoctorOptions {
  /** The environment with any flag overrides merged in. */
  env: Env;
  /** Where the report goes (stdout for the CLI). */
  write: (text: string) => void;
  /** First retry backoff in ms (default 500); tests shorten it. */
  retryBaseDelayMs?: number;
  /** `--http <url>`: check a running HTTP endpoint instead (http-check.ts). */
  httpUrl?: string;
}

export async function runDoctor(options: DoctorOptions): Promise<number> {
  if (options.httpUrl !== undefined) {
    const { runHttpCheck } = await import('./http-check.js');
    return runHttpCheck({ url: options.httpUrl, env: options.env, write: options.write });
  }
  const now = (): number => performance.now();
  const started = now();
  const redact = createRedactor(options.env['EZROUTER_API_KEY']?.trim());
  const write = (text: string): void => options.write(redact(text));
  write(`ezrouter-mcp doctor ${VERSION} (node ${process.version}, ${process.platform} ${process.arch})\n\n`);

  let config: Readonly<Config>;
  try {
    config = loadConfig(options.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    write(renderCheck({ title: 'configuration', status: 'fail', summary: error.message, ms: now() - started }));
    const bad = verdict([], now() - started, true);
    write(`\n${bad.text}`);
    return bad.exitCode;
  }

  const checks: CheckResult[] = [];
  const report = (check: CheckResult): CheckResult => {
    checks.push(check);
    write(renderCheck(check));
    return check;
  };
  const dispatcher = createDispatcher(config);
  try {
    await runChecks(config, options, { dispatcher, redact, now, report });
  } finally {
    await dispatcher.destroy().catch(() => undefined);
  }
  const result = verdict(checks, now() - started);
  write(`\n${result.text}`);
  return result.exitCode;
}

interface RunContext {
  dispatcher: Dispatcher;
  redact: Redactor;
  now: () => number;
  report: (check: CheckResult) => CheckResult;
}

async function runChecks(config: Readonly<Config>, options: DoctorOptions, ctx: RunContext): Promise<void> {
  const { dispatcher, redact, now, report } = ctx;
  const configuration = report(checkConfiguration(config));

  const gateway = report(await checkGateway({ config, env: options.env, dispatcher, redact, now }));

  const skipReason = gateway.status === 'fail' ? 'the gateway is unreachable' : configuration.status === 'fail' ? 'no API key' : undefined;
  if (skipReason !== undefined) {
    for (const title of ['API key', 'model catalog', 'balance']) report({ title, status: 'skip', summary: `skipped: ${skipReason}` });
    return;
  }
  const client = new EzrouterClient({
    config,
    dispatcher,
    log: silentLogger,
    userAgent: USER_AGENT,
    retryBaseDelayMs: options.retryBaseDelayMs,
  });
  const key = await checkKey(client, redact, now);
  report(key.result);
  if (!key.snapshot) {
    for (const title of ['model catalog', 'balance']) report({ title, status: 'skip', summary: 'skipped: the key check failed' });
    return;
  }
  report(checkCatalog(key.snapshot, config));
  report(await checkBalance(client, redact, now));
}
