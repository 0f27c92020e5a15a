/** The emulator host process (bench/emulator-host.mjs) and its scripting channel. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface StreamScript {
  kind: 'stream';
  text?: string;
  chunkChars?: number;
  [key: string]: unknown;
}

export interface HostedEmulator {
  url: string;
  apiKey: string;
  /** Serves recorded emulator responses at loopback speed (see `record`). */
  replayUrl: string;
  pid: number;
  /** Queues `times` scripted answers; `gen` makes the host generate the text (answerText). */
  script(behaviour: StreamScript, options?: { times?: number; gen?: { length: number; seed?: number } }): Promise<void>;
  /** Asks the emulator once (POST `path` with `body`) and keeps the response for the replay server. */
  record(request: { path: string; body: string; headers: Record<string, string> }, behaviour: StreamScript, gen?: { length: number; seed?: number }): Promise<void>;
  close(): Promise<void>;
}

export async function startHostedEmulator(): Promise<HostedEmulator> {
  const child: ChildProcess = fork(fileURLToPath(new URL('../emulator-host.mjs', import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [],
  });
  const ready = await new Promise<{ url: string; apiKey: string; replayUrl: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`emulator host exited with ${code}`)));
    child.once('message', (m) => resolve(m as { url: string; apiKey: string; replayUrl: string }));
  });
  let seq = 0;
  const call = (message: Record<string, unknown>): Promise<void> =>
    new Promise((resolve) => {
      const id = ++seq;
      const onMessage = (m: unknown): void => {
        if ((m as { id?: number }).id !== id) return;
        child.off('message', onMessage);
        resolve();
      };
      child.on('message', onMessage);
      child.send({ ...message, id });
    });
  return {
    url: ready.url,
    apiKey: ready.apiKey,
    replayUrl: ready.replayUrl,
    pid: child.pid ?? -1,
    script: (behaviour, options = {}) => call({ type: 'script', behaviour, times: options.times, gen: options.gen }),
    record: (req, behaviour, gen) => call({ type: 'record', ...req, behaviour, gen }),
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'close' });
      await exited;
    },
  };
}
