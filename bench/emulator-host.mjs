/**
 * Runs the ezrouter emulator (the built one, dist/emulator) in its own process, as a gateway is
 * another machine: the bench process then measures only the client side. Commands arrive over
 * the IPC channel:
 *   {type:'script', id, behaviour, times?, gen?}  queues `times` scripted answers (gen:
 *       {length, seed} makes the text here with answerText instead of sending it over IPC);
 *   {type:'record', id, path, body, headers, behaviour, gen}  asks the emulator once and keeps
 *       the exact response (status, content type, body bytes) for the replay server;
 *   {type:'close'}.
 * The replay server answers a POST to a recorded path with the recorded bytes, written at once:
 * the same emulator response, at the speed of the loopback instead of the emulator's.
 */
import { createServer } from 'node:http';
import { request } from 'node:http';
import { startEmulator } from '../dist/emulator/index.js';
import { answerText } from './lib/workload.mjs';

const emulator = await startEmulator();
const texts = new Map();
const recordings = new Map();

function withText(message) {
  const behaviour = { ...message.behaviour };
  if (message.gen) {
    const key = `${message.gen.length}:${message.gen.seed ?? 1}`;
    if (!texts.has(key)) texts.set(key, answerText(message.gen.length, message.gen.seed ?? 1));
    behaviour.text = texts.get(key);
  }
  return behaviour;
}

function record(message) {
  emulator.script(withText(message));
  return new Promise((resolve, reject) => {
    const req = request(`${emulator.url}${message.path}`, { method: 'POST', headers: message.headers }, (res) => {
      const pieces = [];
      res.on('data', (piece) => pieces.push(piece));
      res.on('end', () => {
        recordings.set(message.path, {
          status: res.statusCode,
          contentType: res.headers['content-type'] ?? 'text/event-stream',
          requestId: res.headers['x-oneapi-request-id'],
          body: Buffer.concat(pieces),
        });
        resolve();
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(message.body);
  });
}

const replay = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const path = (req.url ?? '/').split('?')[0];
    const recorded = req.method === 'POST' ? recordings.get(path) : undefined;
    if (!recorded) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"nothing recorded for this path","type":"invalid_request_error"}}');
      return;
    }
    res.writeHead(recorded.status, { 'content-type': recorded.contentType, 'x-oneapi-request-id': recorded.requestId ?? 'replay', 'cache-control': 'no-cache' });
    res.end(recorded.body);
  });
});
await new Promise((resolve) => replay.listen(0, '127.0.0.1', resolve));
const replayUrl = `http://127.0.0.1:${replay.address().port}`;

process.on('message', (message) => {
  const ack = () => process.send({ type: 'ack', id: message.id });
  if (message.type === 'script') {
    const behaviour = withText(message);
    for (let i = 0; i < (message.times ?? 1); i++) emulator.script(behaviour);
    ack();
  } else if (message.type === 'record') {
    record(message).then(ack, (error) => {
      console.error(error);
      process.exit(1);
    });
  } else if (message.type === 'close') {
    replay.close();
    replay.closeAllConnections();
    void emulator.close().then(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready', url: emulator.url, apiKey: emulator.apiKey, replayUrl });
