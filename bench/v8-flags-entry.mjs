/**
 * Experiment entry: sets the V8 flags in BENCH_V8_FLAGS (as `v8.setFlagsFromString` would in
 * src/cli.ts), then runs dist/cli.js unchanged. Used to measure a recommended startup change.
 */
import v8 from 'node:v8';

for (const flag of (process.env['BENCH_V8_FLAGS'] ?? '').split(' ').filter(Boolean)) v8.setFlagsFromString(flag);
await import('../dist/cli.js');
