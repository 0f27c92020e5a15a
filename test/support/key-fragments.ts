/**
 * Every piece of a secret that must never be seen in output (issue 8): the secret whole, without
 * its `sk-` prefix, and every 12-character run of the secret, of its URL-encoded form, and of its
 * base64 and base64url forms at each of the three alignments it can have inside a longer encoded
 * string (only the characters that depend on the secret's bytes alone: the ones at each end that
 * mix in a neighbouring byte are whatever the neighbour makes them).
 */

/** The run length the README promises is never shown. */
export const RUN = 12;

export function keyFragments(secret: string): string[] {
  const body = secret.startsWith('sk-') ? secret.slice(3) : secret;
  const whole = new Set<string>([secret, body, encodeURIComponent(secret), encodeURIComponent(body)]);
  const encodings = [secret, body, encodeURIComponent(secret), encodeURIComponent(body), ...base64Stable(secret), ...base64Stable(body)];
  const forms = new Set<string>();
  for (const form of whole) forms.add(form);
  for (const encoding of encodings) {
    for (let i = 0; i + RUN <= encoding.length; i++) forms.add(encoding.slice(i, i + RUN));
  }
  return [...forms].filter((f) => f.length > 0);
}

/** The base64 and base64url characters of `secret` that are the same whatever bytes surround it, per alignment. */
function base64Stable(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const out: string[] = [];
  for (let lead = 0; lead < 3; lead++) {
    const encoded = Buffer.concat([Buffer.alloc(lead, 0x41), bytes]).toString('base64');
    const stable = encoded.slice(Math.ceil((lead * 8) / 6), Math.floor(((lead + bytes.length) * 8) / 6));
    out.push(stable, stable.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

/** Throws, naming where and showing the context, if `text` holds any of `fragments`. */
export function expectNoFragment(where: string, text: string, fragments: readonly string[]): void {
  for (const fragment of fragments) {
    const at = text.indexOf(fragment);
    if (at !== -1) {
      throw new Error(`${where} contains a fragment of a secret (${JSON.stringify(fragment)}): ${text.slice(Math.max(0, at - 80), at + 80)}`);
    }
  }
}
