/**
 * `GET /v1/user/balance` has no documented shape, units or currency. Keep the raw JSON and
 * recognise the common shapes: a top-level or `data`-nested `balance` / `total_balance` /
 * `available_balance` / `remaining` (number or numeric string), an optional `currency`, or a
 * `balance_infos[]` list. Never invent a number: unknown shapes give `balance: null`.
 */
import { isRecord } from './json.js';

export interface Balance {
  balance: number | null;
  currency: string | null;
  raw: unknown;
}

const AMOUNT_KEYS = ['balance', 'total_balance', 'available_balance', 'remaining'] as const;

export function parseBalance(raw: unknown): Balance {
  for (const scope of candidates(raw)) {
    const found = readAmount(scope);
    if (found) return { ...found, raw };
  }
  return { balance: null, currency: null, raw };
}

/** The objects that may hold the amount: the body, its `data`, and the first `balance_infos` entry. */
function candidates(raw: unknown): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const visit = (value: unknown): void => {
    if (!isRecord(value)) return;
    out.push(value);
    const infos = value['balance_infos'];
    if (Array.isArray(infos) && isRecord(infos[0])) out.push(infos[0]);
  };
  visit(raw);
  if (isRecord(raw)) visit(raw['data']);
  return out;
}

function readAmount(scope: Record<string, unknown>): { balance: number; currency: string | null } | undefined {
  for (const key of AMOUNT_KEYS) {
    const amount = toNumber(scope[key]);
    if (amount !== undefined) {
      const currency = scope['currency'];
      return { balance: amount, currency: typeof currency === 'string' && currency !== '' ? currency : null };
    }
  }
  return undefined;
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}
