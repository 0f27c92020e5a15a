/**
 * DNS rebinding and cross-site protection for /mcp: the Host header must name this server (a
 * page on evil.example that resolves to 127.0.0.1 still sends `Host: evil.example`), and a
 * browser's Origin must be on the allow-list. Requests without Origin (every non-browser
 * client) are fine.
 */
import { parseHostValue, parseOrigin, type HostRule } from './http-config.js';

export function hostAllowed(header: string | undefined, rules: readonly HostRule[]): boolean {
  if (header === undefined) return false;
  const host = parseHostValue(header);
  if (!host) return false;
  return rules.some((rule) => rule.hostname === host.hostname && (rule.port === undefined || rule.port === host.port));
}

export function originAllowed(header: string | undefined, allowed: readonly string[]): boolean {
  if (header === undefined) return true;
  const origin = parseOrigin(header);
  return origin !== undefined && allowed.includes(origin);
}
