
/** What a key may do; `admin` includes the other two. */
export type Scope = 'read' | 'write' | 'admin';

export interface ApiKeyLimits {
  /** null: the deployment's default (RATE_LIMIT_REQUESTS); 0: unlimited. */
  requestsPerMinute: number | null;
  /** null: the deployment's default (RATE_LIMIT_BYTES); 0: unlimited. */
  bytesPerMinute: number | null;
}

export interface ApiKeyRecord extends ApiKeyLimits {
  id: number;
  name: string;
  /** The key's first characters, to tell keys apart; never enough to use it. */
  prefix: string;
  scopes: Scope[];
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface NewApiKey extends ApiKeyLimits {
  name: string;
  hash: string;
  prefix: string;
  scopes: Scope[];
}

export class DuplicateKeyNameError extends Error {
  constructor(readonly keyName: string) {
    super(`an active key is already named "${keyName}"`);
  }
}

export interface ApiKeyRepository {
  /** Stores a key's hash; a second active key with the same name is refused. */
  create(key: NewApiKey, now: number): Promise<ApiKeyRecord>;
  /** The active key with this hash. */
  findActiveByHash(hash: string): Promise<(ApiKeyRecord & { hash: string }) | undefined>;
  list(options?: { includeRevoked?: boolean }): Promise<ApiKeyRecord[]>;
  /** Revokes the active key with this id or name; undefined when there is none. */
  revoke(idOrName: number | string, now: number): Promise<ApiKeyRecord | undefined>;
  /** Records when keys were last used (batched by the caller). */
  touch(lastUsed: ReadonlyMap<number, number>): Promise<void>;
  /** How many keys were ever created (revoked ones included). */
  count(): Promise<number>;
}

export interface KeyRow {
  id: number;
  name: string;
  hash: string;
  prefix: string;
  scopes: string;
  requests_per_minute: number | null;
  bytes_per_minute: number | null;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export const toRecord = (r: KeyRow): ApiKeyRecord => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  scopes: r.scopes.split(',') as Scope[],
  requestsPerMinute: r.requests_per_minute,
  bytesPerMinute: r.bytes_per_minute,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});
