import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';
import { AppError } from '../errors.js';
import { LONE_SURROGATE } from './schemas/common.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Bytes as UTF-8, refusing what is not: a lenient decoder turns every invalid sequence into
 * U+FFFD, so two distinct ids sent in a broken encoding were stored as one user.
 */
export function decodeUtf8(bytes: Uint8Array, path: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new AppError(400, 'invalid_utf8', 'The body is not valid UTF-8', [{ path, message: 'must be valid UTF-8 (send text in UTF-8; invalid bytes are not replaced)' }]);
  }
}

// A `\uD800`–`\uDFFF` escape: the only way a surrogate reaches a string through strict UTF-8 JSON.
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;

/** The path (dotted, under `path`) of the first key or string with a lone surrogate, or null. */
function loneSurrogateAt(value: unknown, path: string): string | null {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path : null;
  if (value === null || typeof value !== 'object') return null;
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    if (LONE_SURROGATE.test(key)) return `${path}.${key.replace(LONE_SURROGATE, '\uFFFD')}`;
    const found = loneSurrogateAt(child, `${path}.${key}`);
    if (found) return found;
  }
  return null;
}

/**
 * JSON text to a value, refusing prototype poisoning (as Fastify's own parser does), malformed
 * JSON and a lone surrogate anywhere (a key, an id, a category, a label): databases and other
 * parsers store lone surrogates differently, so one would silently become another string. The
 * walk runs only when the text holds a surrogate escape at all (paired ones, e.g. an emoji
 * escaped by Python's json.dumps, pass).
 */
export function parseJsonStrict(text: string, path: string): unknown {
  let value: unknown;
  try {
    value = sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (err) {
    throw new AppError(400, 'malformed_json', 'Malformed JSON body', [{ path, message: (err as Error).message }]);
  }
  if (SURROGATE_ESCAPE.test(text)) {
    const at = loneSurrogateAt(value, path);
    if (at) throw new AppError(400, 'validation_failed', 'Invalid request', [{ path: at, message: 'must be well-formed Unicode (no lone surrogate)' }]);
  }
  return value;
}

/** JSON bodies decoded as strict UTF-8 and parsed by {@link parseJsonStrict}; Fastify's body limit still applies. */
export function registerStrictJson(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      const bytes = body as Buffer;
      if (bytes.length === 0) return done(new AppError(400, 'malformed_json', 'Malformed JSON body', [{ path: 'body', message: 'the body is empty' }]), undefined);
      done(null, parseJsonStrict(decodeUtf8(bytes, 'body'), 'body'));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
