/**
 * The MCP clients `ezrouter-mcp config <client>` knows. Kept free of imports so the argument
 * parser can validate a client name without loading anything else.
 */
export const CLIENT_IDS = ['claude-desktop', 'claude-code', 'cursor', 'vscode'] as const;

export type ClientId = (typeof CLIENT_IDS)[number];

export function isClientId(value: string): value is ClientId {
  return (CLIENT_IDS as readonly string[]).includes(value);
}
