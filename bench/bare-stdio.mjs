/**
 * Node's own floor for the cold-start section: no SDK, no zod; answers `initialize` and
 * `tools/list` with hand-written JSON-RPC as soon as each line arrives.
 */
let buffer = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (text) => {
  buffer += text;
  let newline;
  while ((newline = buffer.indexOf('\n')) !== -1) {
    const message = JSON.parse(buffer.slice(0, newline));
    buffer = buffer.slice(newline + 1);
    if (message.method === 'initialize') {
      const result = { protocolVersion: message.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'bare', version: '0.0.0' } };
      process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id: message.id, result })}\n`);
    } else if (message.method === 'tools/list') {
      const tools = [{ name: 'echo', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }];
      process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id: message.id, result: { tools } })}\n`);
    }
  }
});
process.stdin.on('end', () => process.exit(0));
