/**
 * The answer store behind `ezrouter://answers/{id}`: whole answers that did not fit in one
 * result, and background jobs' answers, kept so a client or a model can page through them. A
 * port: stdio and a single HTTP replica use the in-memory store below; replicas share one in a
 * database (the same interface).
 */

export interface StoredAnswer {
  text: string;
  /** The model that wrote it, for the reader's benefit. */
  model: string;
  createdAt: number;
}

export interface AnswerStore {
  /** Keeps an answer; resolves with its id (opaque, unguessable). */
  put(answer: Omit<StoredAnswer, 'createdAt'>): Promise<string>;
  /** The answer, or undefined when the id is unknown or expired. */
  get(id: string): Promise<StoredAnswer | undefined>;
}

export interface MemoryAnswerStoreOptions {
  /** Characters kept in all; the least recently read answers are evicted past it. */
  maxChars: number;
  /** How long an answer is kept after it was stored. */
  ttlMs: number;
  now?: () => number;
}

/** In memory, bounded in size and age, least recently used evicted first. */
export class MemoryAnswerStore implements AnswerStore {
  /** Map iteration order is insertion order: re-inserting on read keeps it least-recent first. */
  private readonly answers = new Map<string, StoredAnswer>();
  private chars = 0;
  private readonly now: () => number;

  constructor(private readonly options: MemoryAnswerStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  put(answer: Omit<StoredAnswer, 'createdAt'>): Promise<string> {
    const id = newAnswerId();
    // An answer larger than the whole store is still kept (alone) rather than lost.
    this.answers.set(id, { ...answer, createdAt: this.now() });
    this.chars += answer.text.length;
    this.evict(id);
    return Promise.resolve(id);
  }

  get(id: string): Promise<StoredAnswer | undefined> {
    const answer = this.answers.get(id);
    if (answer === undefined) return Promise.resolve(undefined);
    if (this.now() - answer.createdAt >= this.options.ttlMs) {
      this.remove(id, answer);
      return Promise.resolve(undefined);
    }
    this.answers.delete(id);
    this.answers.set(id, answer);
    return Promise.resolve(answer);
  }

  /** Characters held now (for tests and diagnostics). */
  get size(): { answers: number; chars: number } {
    return { answers: this.answers.size, chars: this.chars };
  }

  private evict(keep: string): void {
    const now = this.now();
    for (const [id, answer] of this.answers) {
      if (id === keep) continue;
      if (this.chars <= this.options.maxChars && now - answer.createdAt < this.options.ttlMs) continue;
      this.remove(id, answer);
    }
  }

  private remove(id: string, answer: StoredAnswer): void {
    this.answers.delete(id);
    this.chars -= answer.text.length;
  }
}

/** 128 random bits, URL-safe: an id is the only capability needed to read an answer. */
export function newAnswerId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url');
}
