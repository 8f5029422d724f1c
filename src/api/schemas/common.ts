import { z } from 'zod';

/** Longest accepted external id; ids are stored and returned verbatim. */
export const MAX_ID_LENGTH = 256;
// Control characters would corrupt logs and CSV exports; everything else (unicode, quotes, `../`) is data.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

// In a `u` regex this class matches only unpaired surrogates: a paired one is a single code point.
export const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * The one id rule, for bodies and paths alike: 1–256 UTF-16 code units of well-formed Unicode
 * without control characters. Lone surrogates are refused because JSON parsers and databases
 * replace them differently (three distinct stored ids once collapsed into one user in training).
 */
const wellFormed = <T extends z.ZodType<string>>(s: T) =>
  s.refine((v) => !CONTROL_CHARS.test(v), 'must not contain control characters').refine((v) => !LONE_SURROGATE.test(v), 'must be well-formed Unicode (no lone surrogate)');

/**
 * An external user or item id: a string under the id rule, or a non-negative integer (converted
 * to its decimal string, so `42` and `"42"` are the same id).
 */
const ID_RULE =
  'A user or item id: 1–256 UTF-16 code units of well-formed Unicode (no lone surrogates) without control characters, or a non-negative integer (stored as its decimal string). The same rule holds in bodies and paths; percent-encode ids in paths.';

export const externalId = z
  .union([
    z.string().min(1, 'must not be empty').max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`),
    z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  ])
  .transform((v) => String(v))
  .pipe(wellFormed(z.string()))
  .describe(ID_RULE);

/** An id taken from the URL path (always a string there; percent-decoded), under the same rule. */
export const pathId = wellFormed(z.string().min(1, 'must not be empty').max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`)).describe(ID_RULE);

/** A recommendationId this API issued (a UUID), sent back with feedback or a seen report. */
export const recommendationId = z
  .string()
  .uuid('must be a recommendationId this API issued')
  .describe('The recommendationId of the answer that showed the item: the feedback is attributed to exactly that answer.');

const MAX_FUTURE_MS = 24 * 3600 * 1000;
const MIN_TIMESTAMP_MS = Date.UTC(1970, 0, 1);

/**
 * When something happened: an ISO 8601 date-time string or Unix epoch milliseconds.
 * Up to one day in the future is accepted (client clock skew); later is refused.
 */
export const timestamp = z
  .union([z.iso.datetime({ offset: true }), z.number().int('must be an integer (epoch milliseconds)')])
  .transform((v) => (typeof v === 'string' ? Date.parse(v) : v))
  .refine((ms) => ms >= MIN_TIMESTAMP_MS, 'must not be before 1970-01-01')
  .refine((ms) => ms <= Date.now() + MAX_FUTURE_MS, 'must not be more than one day in the future');

export const errorResponse = z.object({
  error: z.string(),
  code: z.string(),
  details: z.array(z.object({ path: z.string(), message: z.string() })),
});

/** What a route with a JSON body can answer besides its own errors: too large, wrong type, or the API's in-flight body bytes are full (503 + Retry-After). */
export const bodyErrors = { 400: errorResponse, 413: errorResponse, 415: errorResponse, 503: errorResponse };

export const writeCountsResponse = z.object({
  inserted: z.number().int(),
  updated: z.number().int(),
  ignored: z.number().int(),
});
