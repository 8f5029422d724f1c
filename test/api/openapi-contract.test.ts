import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OPENAPI_PATH } from '../../src/app.js';
import { TAGS } from '../../src/api/openapi/operations.js';

type Schema = { description?: string; properties?: Record<string, Schema>; items?: Schema; additionalProperties?: Schema | boolean; anyOf?: Schema[]; oneOf?: Schema[]; allOf?: Schema[] };
type Media = Record<string, { schema?: Schema }>;
interface Operation {
  operationId?: string;
  tags?: string[];
  summary?: string;
  description?: string;
  security?: { apiKey?: string[] }[];
  parameters?: { name: string; in: string; description?: string }[];
  requestBody?: { content: Media };
  responses: Record<string, { description?: string; headers?: Record<string, unknown>; content?: Media }>;
}
const spec = parse(readFileSync(OPENAPI_PATH, 'utf8')) as { tags: { name: string; description: string }[]; paths: Record<string, Record<string, Operation>> };
const operations = Object.entries(spec.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })));

/** Every property of a schema, nested, as `a.b.c` with its schema. */
function* properties(schema: Schema | undefined, at: string): Generator<[string, Schema]> {
  if (!schema) return;
  for (const [name, p] of Object.entries(schema.properties ?? {})) {
    yield [`${at}.${name}`, p];
    yield* properties(p, `${at}.${name}`);
  }
  if (schema.items) yield* properties(schema.items, `${at}[]`);
  if (typeof schema.additionalProperties === 'object') yield* properties(schema.additionalProperties, `${at}{}`);
  for (const inner of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])]) yield* properties(inner, at);
}

const sentences = (text: string) => text.split(/(?<=[.!?])\s+/).map((s) => s.trim()).filter((s) => s.length > 0);

describe('openapi.yaml as a contract', () => {
  it('gives every operation a unique operationId, a summary, a description and one declared resource tag', () => {
    expect(spec.tags.map((t) => t.name).sort()).toEqual(Object.keys(TAGS).sort());
    const ids = new Set<string>();
    for (const { key, op } of operations) {
      expect(op.summary, `${key} summary`).toMatch(/\S/);
      expect(op.description, `${key} description`).toMatch(/\S/);
      expect(op.tags, `${key} tags`).toHaveLength(1);
      expect(Object.keys(TAGS), `${key} tag`).toContain(op.tags![0]);
      expect(op.operationId, `${key} operationId`).toMatch(/^[a-z][A-Za-z]+$/);
      expect(ids.has(op.operationId!), `${key} operationId ${op.operationId} unique`).toBe(false);
      ids.add(op.operationId!);
    }
  });

  it('describes every parameter and every property of every body and answer', () => {
    const undescribed: string[] = [];
    for (const { key, op } of operations) {
      for (const p of op.parameters ?? []) if (!p.description?.trim()) undescribed.push(`${key} ${p.in}.${p.name}`);
      const bodies = [...Object.values(op.requestBody?.content ?? {}).map((m) => ['body', m.schema] as const), ...Object.entries(op.responses).flatMap(([status, r]) => Object.values(r.content ?? {}).map((m) => [status, m.schema] as const))];
      for (const [where, schema] of bodies) for (const [path, p] of properties(schema, where)) if (!p.description?.trim()) undescribed.push(`${key} ${path}`);
    }
    expect(undescribed).toEqual([]);
  });

  it('describes every answer and documents 401, 403, 429 and 503 with Retry-After', () => {
    for (const { key, op } of operations) {
      for (const [status, response] of Object.entries(op.responses)) expect(response.description, `${key} ${status}`).not.toMatch(/^(Default Response)?$/);
      if (key === 'GET /healthz' || key === 'GET /readyz') continue;
      expect(op.security?.[0]?.apiKey, `${key} scope`).toHaveLength(1);
      for (const status of ['401', '403', '429', '503']) expect(op.responses[status], `${key} documents ${status}`).toBeDefined();
      expect(Object.keys(op.responses).some((s) => s.startsWith('4') && !['401', '403', '429'].includes(s)) || !op.parameters?.length, `${key} documents what bad input gets`).toBe(true);
      for (const status of ['429', '503']) expect(op.responses[status].headers?.['Retry-After'], `${key} ${status} Retry-After`).toBeDefined();
    }
  });

  it('says no sentence twice in the operations\' descriptions', () => {
    const seen = new Map<string, string>();
    for (const { key, op } of operations) {
      for (const sentence of sentences(`${op.summary}. ${op.description}`)) {
        expect(seen.get(sentence), `"${sentence}" in ${key}`).toBeUndefined();
        seen.set(sentence, key);
      }
    }
  });

  it('names NDJSON on the bulk routes', () => {
    expect(Object.keys(spec.paths['/admin/import/{kind}'].post.requestBody!.content)).toEqual(['application/x-ndjson']);
    expect(Object.keys(spec.paths['/admin/export/{kind}'].get.responses['200'].content!)).toEqual(['application/x-ndjson']);
  });
});
