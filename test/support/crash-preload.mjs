// Test-only crash trigger, loaded into the real built CLI with `node --import <this file>` by
// test/crash.test.ts and by nothing else: it lives in test/ (not in src/ or dist/, never packed),
// so no production process can load it by accident. On SIGUSR2 it fails the way a bug in a
// dependency would, with the key in the message: EZROUTER_TEST_CRASH=reject is an unhandled
// promise rejection, =throw an uncaught exception.
process.on('SIGUSR2', () => {
  // EZROUTER_TEST_CRASH_SECRET: another secret the message quotes (a principal's key from the tokens file).
  const extra = process.env.EZROUTER_TEST_CRASH_SECRET ? ` and ${process.env.EZROUTER_TEST_CRASH_SECRET}` : '';
  const error = new Error(`dependency bug while holding ${process.env.EZROUTER_API_KEY}${extra}`);
  if (process.env.EZROUTER_TEST_CRASH === 'throw') {
    setImmediate(() => {
      throw error;
    });
  } else {
    void Promise.reject(error);
  }
});
