import { createHash, randomBytes } from 'node:crypto';
import type { ApiKeyLimits, ApiKeyRecord, ApiKeyRepository, Scope } from '../db/keys-repository.js';

export type { Scope } from '../db/keys-repository.js';
export const SCOPES: readonly Scope[] = ['read', 'write', 'admin'];

/** Every key starts with this, so a leaked key is recognisable by secret scanners. */
const KEY_PREFIX = 'rf_';
/** Characters of a key shown in listings: the prefix and 6 random characters (36 bits, not enough to guess the other 250). */
const SHOWN_CHARS = KEY_PREFIX.length + 6;

export interface GeneratedKey {
  key: string;
  hash: string;
  prefix: string;
}

/** A new random key (256 bits), its hash for storage and its displayable prefix. */
export function generateKey(): GeneratedKey {
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashKey(key), prefix: displayPrefix(key) };
}

/** The part of a key listings show. */
export const displayPrefix = (key: string): string => key.slice(0, SHOWN_CHARS);

export interface KeyRequest extends ApiKeyLimits {
  name: string;
  scopes: Scope[];
}

/** Creates and stores a key; the returned `key` is the only time it exists in clear. */
export async function issueKey(keys: ApiKeyRepository, request: KeyRequest, now: number): Promise<{ record: ApiKeyRecord; key: string }> {
  const { key, hash, prefix } = generateKey();
  const scopes = SCOPES.filter((s) => request.scopes.includes(s));
  return { record: await keys.create({ ...request, scopes, hash, prefix }, now), key };
}

/**
 * SHA-256, hex. A key is 256 random bits, so no dictionary or brute force can invert the hash:
 * a slow password hash would only add milliseconds to every request.
 */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Whether a key holding `scopes` may call a route that needs `needed`; admin may do everything. */
export function grants(scopes: readonly Scope[], needed: Scope): boolean {
  return scopes.includes('admin') || scopes.includes(needed);
}

/** Key names label metrics and listings: short, lowercase, no secrets can hide in them. */
export const KEY_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Names of the built-in principals (the admin token, open access): a key may not share their labels. */
export const RESERVED_KEY_NAMES: readonly string[] = ['admin-token', 'anonymous'];

/** Why `name` cannot name a key, or null when it can. */
export function keyNameProblem(name: string): string | null {
  if (!KEY_NAME.test(name)) return 'must be 1–64 characters: lowercase letters, digits, ".", "_" or "-", starting with a letter or digit';
  if (RESERVED_KEY_NAMES.includes(name)) return `is reserved for a built-in principal (${RESERVED_KEY_NAMES.join(', ')})`;
  return null;
}
