import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/** src/ files and what they import at run time (`import type` is erased and does not count). */
function importGraph(): Map<string, { runtime: string[]; all: string[]; packages: string[] }> {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.tsx?$/.test(p)) files.push(p);
    }
  };
  walk('src');
  const graph = new Map<string, { runtime: string[]; all: string[]; packages: string[] }>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const runtime: string[] = [];
    const all: string[] = [];
    const packages: string[] = [];
    for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm)) {
      const [, typeOnly, spec] = m;
      if (!spec.startsWith('.')) {
        packages.push(spec);
        continue;
      }
      const target = relative('.', normalize(join(dirname(file), spec.replace(/\.js$/, '.ts'))));
      all.push(target);
      if (!typeOnly) runtime.push(target);
    }
    for (const m of text.matchAll(/await import\('(\.[^']+)'\)/g)) runtime.push(relative('.', normalize(join(dirname(file), m[1].replace(/\.js$/, '.ts')))));
    graph.set(relative('.', file), { runtime, all, packages });
  }
  return graph;
}

const graph = importGraph();
const layer = (file: string): string => file.split('/')[1].replace(/\.ts$/, '');

describe('architecture', () => {
  it('has no circular runtime imports', () => {
    expect(graph.size).toBeGreaterThan(40);
    expect(graph.get('src/app.ts')!.runtime).toContain('src/api/routes/admin.ts');
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' → '));
        return;
      }
      state.set(file, 'visiting');
      for (const next of graph.get(file)?.runtime ?? []) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('dependencies point down: nothing imports api/, models/ knows nothing of HTTP, SQL or serving', () => {
    const violations: string[] = [];
    for (const [file, { all, packages }] of graph) {
      const from = layer(file);
      for (const target of all) {
        const to = layer(target);
        if (to === 'api' && from !== 'api' && file !== 'src/app.ts') violations.push(`${file} imports ${target}`);
        if (from === 'models' && ['api', 'db', 'queue', 'serving', 'train', 'app'].includes(to)) violations.push(`${file} imports ${target}`);
        if (from === 'data' && !['data'].includes(to)) violations.push(`${file} imports ${target}`);
        // The dashboard is a browser bundle: it talks to the server over HTTP only.
        if ((from === 'web') !== (to === 'web')) violations.push(`${file} imports ${target}`);
      }
      if (from === 'models' && packages.some((p) => /fastify|better-sqlite3|bullmq|ioredis/.test(p))) violations.push(`${file} imports ${packages.join(', ')}`);
    }
    expect(violations).toEqual([]);
  });

  it('database drivers live in db/ only, each engine\'s in its own folder (db/sqlite, db/postgres): callers see the Store, never an engine', () => {
    const violations: string[] = [];
    for (const [file, { packages }] of graph) {
      const drivers = packages.filter((p) => /^(better-sqlite3|pg|pg-cursor)$/.test(p));
      if (drivers.length > 0 && layer(file) !== 'db') violations.push(`${file} imports ${drivers.join(', ')}`);
      if (drivers.some((p) => p.startsWith('pg')) && !file.startsWith('src/db/postgres/')) violations.push(`${file} imports ${drivers.join(', ')} outside db/postgres`);
      if (drivers.includes('better-sqlite3') && !file.startsWith('src/db/sqlite/')) violations.push(`${file} imports better-sqlite3 outside db/sqlite`);
    }
    expect(violations).toEqual([]);
  });
});
