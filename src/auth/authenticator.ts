import { timingSafeEqual } from 'node:crypto';
import type { ApiKeyRepository } from '../db/keys-repository.js';
import { hashKey, type Scope } from './keys.js';

/** Who is calling: a stored key, the admin token, or everyone when auth is off. */
export interface Principal {
  /** The stored key's id; null for the admin token and for AUTH=off. */
  keyId: number | null;
  /** A metrics label and log field: key names are a bounded set chosen by admins. */
  name: string;
  scopes: readonly Scope[];
  /** Effective limits per minute; 0 means unlimited. */
  requestsPerMinute: number;
  bytesPerMinute: number;
}

export interface RateDefaults {
  requestsPerMinute: number;
  bytesPerMinute: number;
}

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

/** The principal of AUTH=off: every request may do everything. */
export const OPEN_ACCESS: Principal = { keyId: null, name: 'anonymous', scopes: ['admin'], requestsPerMinute: 0, bytesPerMinute: 0 };

/**
 * Resolves `Authorization: Bearer …` to a principal. The admin token is compared in constant
 * time on fixed-length digests (neither content nor length leaks). A stored key is found by its
 * SHA-256 through the unique index and the digests compared in constant time again: an index
 * lookup's timing can only reveal a prefix of a hash, which says nothing about any key.
 * Looking keys up per request (microseconds on an indexed table) makes a revocation effective on
 * the next request in every process; `last_used_at` is written in batches.
 */
export class Authenticator {
  private readonly adminDigest: Buffer;
  private readonly lastUsed = new Map<number, number>();
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly keys: ApiKeyRepository,
    adminToken: string,
    private readonly defaults: RateDefaults,
    private readonly now: () => number = Date.now,
  ) {
    this.adminDigest = Buffer.from(hashKey(adminToken), 'hex');
  }

  /** The caller behind an Authorization header, or null when it names no valid key. */
  async authenticate(header: string | undefined): Promise<Principal | null> {
    const match = header === undefined ? null : BEARER.exec(header);
    if (!match) return null;
    // One SHA-256 per request serves both comparisons.
    const hash = hashKey(match[1]);
    if (timingSafeEqual(Buffer.from(hash, 'hex'), this.adminDigest)) {
      return { keyId: null, name: 'admin-token', scopes: ['admin'], requestsPerMinute: 0, bytesPerMinute: 0 };
    }
    const stored = await this.keys.findActiveByHash(hash);
    if (!stored || !timingSafeEqual(Buffer.from(stored.hash), Buffer.from(hash))) return null;
    this.lastUsed.set(stored.id, this.now());
    return {
      keyId: stored.id,
      name: stored.name,
      scopes: stored.scopes,
      requestsPerMinute: stored.requestsPerMinute ?? this.defaults.requestsPerMinute,
      bytesPerMinute: stored.bytesPerMinute ?? this.defaults.bytesPerMinute,
    };
  }

  /** Writes `last_used_at` every `everyMs` (one small transaction for all keys used since). */
  start(everyMs: number, onError: (err: Error) => void): void {
    this.flushTimer = setInterval(() => {
      this.flush().catch((err: unknown) => onError(err as Error));
    }, everyMs);
    this.flushTimer.unref();
  }

  async flush(): Promise<void> {
    if (this.lastUsed.size === 0) return;
    const batch = new Map(this.lastUsed);
    this.lastUsed.clear();
    await this.keys.touch(batch);
  }

  async stop(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.flush();
  }
}
