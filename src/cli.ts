#!/usr/bin/env node
/**
 * The `ezrouter-mcp` command. With no arguments: a stdio MCP server (stdout carries only
 * JSON-RPC; logs go to stderr). `--help` / `--version` print to stdout and exit 0; a bad flag
 * or configuration value is reported on stderr with exit status 2. The subcommands `doctor` and
 * `config <client>` print a report / a client snippet to stdout (they are not the server);
 * `http` serves MCP over Streamable HTTP (remote mode, src/transports/http/).
 */
import { setFlagsFromString } from 'node:v8';
import { parseArgs, USAGE } from './args.js';
import { ConfigError, loadConfig } from './config.js';
import { crash, installCrashHandlers } from './crash.js';
import { createLogger } from './log.js';
import { createRedactor } from './redact.js';
import { VERSION } from './version.js';

async function main(): Promise<void> {
  // The output edge of the commands: every line they print passes the redactor (the server's
  // messages pass it in createServer, its log lines in the logger).
  const redact = createRedactor(process.env['EZROUTER_API_KEY']);
  // A crash before a server has its own logger (it installs that one) is one redacted stderr line.
  installCrashHandlers(createLogger('error', redact));
  const stdout = (text: string): boolean => process.stdout.write(redact.secretOnly(text));
  const stderr = (text: string): boolean => process.stderr.write(redact(text));
  const parsed = parseArgs(process.argv.slice(2));
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.usage ?? USAGE); // --help
    return;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`${VERSION}\n`); // --version
    return;
  }
  if (parsed.kind === 'error') {
    stderr(`ezrouter-mcp: ${parsed.message}\n\n${parsed.usage ?? USAGE}`);
    process.exitCode = 2;
    return;
  }
  // Subcommands load their modules only when used: --help stays instant.
  if (parsed.kind === 'doctor') {
    const { runDoctor } = await import('./commands/doctor/doctor.js');
    process.exitCode = await runDoctor({
      env: { ...process.env, ...parsed.overrides },
      write: stdout,
      httpUrl: parsed.httpUrl,
    });
    return;
  }
  if (parsed.kind === 'http') {
    // Remote mode: `ezrouter-mcp http`. stdout stays silent here too; logs are JSON lines on stderr.
    const env = { ...process.env, ...parsed.overrides };
    try {
      const config = loadConfig(env);
      const { loadHttpConfig } = await import('./transports/http/http-config.js');
      const http = loadHttpConfig(env);
      setFlagsFromString('--liftoff-only'); // as for stdio, below
      const { serveHttp } = await import('./transports/http/serve.js');
      await serveHttp(config, http, env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      stderr(`ezrouter-mcp: configuration error: ${error.message}\n`);
      process.exit(2);
    }
    return;
  }
  if (parsed.kind === 'config') {
    const { runSetupCommand } = await import('./commands/setup/setup-command.js');
    process.exitCode = runSetupCommand(parsed, {
      env: process.env,
      // --inline-key asks for the key in the snippet: the one output that carries it on purpose.
      stdout: parsed.inlineKey ? (text) => process.stdout.write(text) : stdout,
      stderr,
    });
    return;
  }
  let config;
  try {
    config = loadConfig({ ...process.env, ...parsed.overrides });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    stderr(`ezrouter-mcp: configuration error: ${error.message}\n`);
    process.exitCode = 2;
    return;
  }
  // The only WebAssembly here is undici's HTTP parser. Left to tier up, V8 recompiles it with its
  // optimising compiler once a long stream makes it hot, a ~35 MiB transient on the server's
  // peak memory for no measurable speed (BENCHMARKS.md, "memory"); the baseline tier is enough.
  setFlagsFromString('--liftoff-only');
  // The server and its dependencies load only when serving: --help stays instant.
  const { serveStdio } = await import('./transports/stdio.js');
  await serveStdio(config);
}

// Through the crash logger installed last: the server's, once it runs (it knows its secrets).
main().catch((error: unknown) => crash('the command failed', error));
