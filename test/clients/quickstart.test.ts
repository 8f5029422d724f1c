import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/app.js';
import { startServer, type RunningServer } from '../helpers/server.js';

const run = promisify(execFile);

/** The README's quickstart snippet for one language, as it stands there. */
function snippet(language: 'typescript' | 'python'): string {
  const readme = readFileSync('README.md', 'utf8');
  return new RegExp(`<!-- quickstart:${language} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\`\`\``).exec(readme)![1];
}

let server: RunningServer;
let dir: string;
let cleanup: () => void;
beforeAll(async () => {
  ({ dir, cleanup } = tempDir('recflow-quickstart-'));
  server = await startServer();
  const lines: string[] = [];
  for (let u = 1; u <= 60; u++) for (let i = 1; i <= 40; i++) if ((u * 7 + i * 3) % 5 < 2) lines.push(JSON.stringify({ userId: `u${u}`, itemId: `i${i}`, rating: 1 + ((u + i) % 5) }));
  writeFileSync(join(dir, 'ratings.ndjson'), `${lines.join('\n')}\n`);
});
afterAll(async () => {
  await server?.stop();
  cleanup?.();
});

/** Five "item score" lines after the import line: what the snippet prints. */
function expectRecommendations(stdout: string): void {
  const lines = stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^imported \d+ ratings$/);
  expect(lines.slice(1)).toHaveLength(5);
  for (const line of lines.slice(1)) expect(line).toMatch(/^i\d+ -?\d+(\.\d+)?$/);
}

describe('the README quickstarts', () => {
  it('TypeScript: npm install of the packed client, then the snippet as it is (under 20 lines)', async () => {
    const code = snippet('typescript');
    expect(code.trim().split('\n').length).toBeLessThan(20);
    const project = join(dir, 'ts-app');
    mkdirSync(project);
    await run('npm', ['pack', '--pack-destination', project], { cwd: resolve('clients/typescript') });
    const tarball = readdirSync(project).find((f) => f.endsWith('.tgz'))!;
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'quickstart', private: true, type: 'module' }));
    // The client has no dependencies: installing its tarball needs no registry.
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', `./${tarball}`], { cwd: project });
    writeFileSync(join(project, 'quickstart.js'), code);
    writeFileSync(join(project, 'ratings.ndjson'), readFileSync(join(dir, 'ratings.ndjson')));
    const { stdout } = await run(process.execPath, ['quickstart.js'], { cwd: project, env: { ...process.env, RECFLOW_URL: server.base, RECFLOW_TOKEN: server.adminToken } });
    expectRecommendations(stdout);
  });

  it('Python: the snippet as it is (under 20 lines), with the client on PYTHONPATH', async () => {
    const code = snippet('python');
    expect(code.trim().split('\n').length).toBeLessThan(20);
    writeFileSync(join(dir, 'quickstart.py'), code);
    const { stdout } = await run('python3', ['quickstart.py'], { cwd: dir, env: { ...process.env, PYTHONPATH: resolve('clients/python'), PYTHONDONTWRITEBYTECODE: '1', RECFLOW_URL: server.base, RECFLOW_TOKEN: server.adminToken } });
    expectRecommendations(stdout);
  });
});
