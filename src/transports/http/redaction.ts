/**
 * One request's redaction boundary: the server's key, the principal's key and the caller's
 * bearer token, each removed by the project's redactor (so whatever it learns to catch, every
 * one of them gets).
 */
import { createRedactor, type Redactor } from '../../redact.js';

export function redactorFor(secrets: ReadonlyArray<string | undefined>): Redactor {
  const unique = [...new Set(secrets.filter((s): s is string => s !== undefined && s !== ''))];
  if (unique.length <= 1) return createRedactor(unique[0]);
  const redactors = unique.map((secret) => createRedactor(secret));
  const redact = (text: string): string => redactors.reduce((out, r) => r(out), text);
  const secretOnly = (text: string): string => redactors.reduce((out, r) => r.secretOnly(out), text);
  return Object.assign(redact, { secretOnly });
}
