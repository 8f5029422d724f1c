import { z } from 'zod';
import { KEY_NAME, RESERVED_KEY_NAMES, SCOPES } from '../../auth/keys.js';

const perMinute = (what: string) =>
  z.number().int().min(0).max(1e12).nullable().default(null).describe(`${what} per minute for this key; null: the deployment default (RATE_LIMIT_*), 0: unlimited`);

export const createKeyBody = z.strictObject({
  name: z
    .string()
    .regex(KEY_NAME, 'must be 1–64 characters: lowercase letters, digits, ".", "_" or "-", starting with a letter or digit')
    .refine((name) => !RESERVED_KEY_NAMES.includes(name), `is reserved for a built-in principal (${RESERVED_KEY_NAMES.join(', ')})`)
    .describe('1–64 characters: lowercase letters, digits, ".", "_" or "-", starting with a letter or digit; not a built-in principal\'s name (admin-token, anonymous)'),
  scopes: z
    .array(z.enum(SCOPES as ['read', 'write', 'admin']))
    .min(1, 'must name at least one scope')
    .refine((s) => new Set(s).size === s.length, 'must not repeat a scope'),
  requestsPerMinute: perMinute('Requests'),
  bytesPerMinute: perMinute('Request-body bytes'),
});

export const keyView = z.object({
  id: z.number().int(),
  name: z.string(),
  prefix: z.string().describe('The first characters of the key, to tell keys apart'),
  scopes: z.array(z.enum(SCOPES as ['read', 'write', 'admin'])),
  requestsPerMinute: z.number().int().nullable(),
  bytesPerMinute: z.number().int().nullable(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

export const createdKeyResponse = keyView.extend({ key: z.string().describe('The key itself: shown only in this response, stored only as a hash') });
export const keysQuery = z.strictObject({ include_revoked: z.enum(['true', 'false']).default('false').transform((v) => v === 'true') });
export const keysResponse = z.object({ keys: z.array(keyView) });
export const keyParams = z.strictObject({ id: z.coerce.number().int().positive() });
