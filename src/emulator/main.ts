/** CLI: `node dist/emulator/main.js [--port N] [--key K]` runs the emulator on 127.0.0.1. */
import { startEmulator } from './server.js';

function parseArgs(argv: string[]): { port: number; key: string | undefined } {
  let port = 0;
  let key: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if ((arg === '--port' || arg === '--key') && value === undefined) throw new Error(`${arg} needs a value`);
    if (arg === '--port') {
      port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port: ${value}`);
      i++;
    } else if (arg === '--key') {
      key = value;
      i++;
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: ezrouter-emulator [--port N] [--key K]\n');
      process.exit(0);
    } else {
      throw new Error(`unknown argument: ${arg}`);
    }
  }
  return { port, key };
}

async function main(): Promise<void> {
  const { port, key } = parseArgs(process.argv.slice(2));
  const emulator = await startEmulator(key === undefined ? { port } : { port, apiKey: key });
  const stop = (): void => {
    void emulator.close().then(() => process.exit(0));
  };
  // Handlers first: a parent may signal as soon as it reads the line below.
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stdout.write(`ezrouter emulator listening on ${emulator.url} (key: ${emulator.apiKey})\n`);
}

main().catch((err: unknown) => {
  console.error(`ezrouter emulator: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
