import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../src/config.js';
import { ENVIRONMENT_VARIABLES } from '../src/config/settings.js';

/** No Docker engine runs here: the files are checked by construction. */
interface Instruction {
  op: string;
  args: string;
  stage: number;
}

function parseDockerfile(text: string): Instruction[] {
  const joined = text.replace(/\\\n/g, ' ');
  const out: Instruction[] = [];
  let stage = -1;
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [op, ...rest] = line.split(/\s+/);
    if (op.toUpperCase() === 'FROM') stage++;
    out.push({ op: op.toUpperCase(), args: rest.join(' '), stage });
  }
  return out;
}

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string>; optionalDependencies: Record<string, string>; main?: string };
const docker = parseDockerfile(readFileSync('Dockerfile', 'utf8'));
const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
  services: Record<string, { image?: string; build?: unknown; command?: string[]; environment?: Record<string, string>; volumes?: string[]; ports?: string[]; depends_on?: Record<string, { condition: string }>; healthcheck?: { test: string[] }; restart?: string; stop_grace_period?: string; profiles?: string[]; deploy?: { replicas?: number } }>;
  volumes: Record<string, unknown>;
};
const finalStage = Math.max(...docker.map((i) => i.stage));
const inFinal = (op: string) => docker.filter((i) => i.stage === finalStage && i.op === op);
const execForm = (args: string): string[] => JSON.parse(args) as string[];

describe('Dockerfile', () => {
  it('is multi-stage on a Node 20 slim base: build with dev dependencies, run with production ones', () => {
    const froms = docker.filter((i) => i.op === 'FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) expect(f.args).toMatch(/^node:20[-.\w]*slim/);
    const buildRuns = docker.filter((i) => i.stage < finalStage && i.op === 'RUN').map((i) => i.args);
    expect(buildRuns.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(buildRuns.some((r) => /npm prune --omit=dev/.test(r))).toBe(true);
    expect(inFinal('COPY').some((c) => /--from=build/.test(c.args) && /node_modules/.test(c.args))).toBe(true);
    expect(inFinal('RUN').every((r) => !/npm (ci|install)/.test(r.args))).toBe(true);
  });

  it('copies what `npm run build` reads, so the image serves the dashboard bundled at build time', () => {
    expect(pkg.scripts.build).toMatch(/vite build/);
    const copied = docker.filter((i) => i.stage < finalStage && i.op === 'COPY').map((c) => c.args.split(/\s+/).slice(0, -1)).flat();
    for (const file of ['tsconfig.build.json', 'vite.config.ts', 'src']) expect(copied).toContain(file);
    expect(inFinal('COPY').some((c) => /--from=build/.test(c.args) && /\/app\/dist /.test(c.args))).toBe(true);
  });

  it('installs and checks @tensorflow/tfjs-node in the image (optional locally)', () => {
    expect(pkg.optionalDependencies['@tensorflow/tfjs-node']).toBeDefined();
    expect(docker.some((i) => i.op === 'RUN' && /require\('@tensorflow\/tfjs-node'\)/.test(i.args))).toBe(true);
  });

  it('runs as a non-root user with data on a volume and a /healthz health check', () => {
    const user = inFinal('USER');
    expect(user).toHaveLength(1);
    expect(user[0].args).not.toMatch(/^(root|0)$/);
    expect(inFinal('VOLUME')[0].args).toContain('/data');
    const env = inFinal('ENV').map((e) => e.args).join(' ');
    expect(env).toMatch(/DATABASE_PATH=\/data\//);
    expect(env).toMatch(/MODEL_DIR=\/data\//);
    expect(env).toMatch(/HOST=0\.0\.0\.0/);
    const health = inFinal('HEALTHCHECK')[0].args;
    expect(health).toContain('/healthz');
    expect(execForm(inFinal('CMD')[0].args)).toEqual(pkg.scripts.start.split(' '));
  });

  it('has a .dockerignore keeping local state and dependencies out of the build context', () => {
    const ignore = readFileSync('.dockerignore', 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['node_modules', 'dist', 'data', '.git']) expect(ignore).toContain(entry);
  });
});

describe('docker-compose.yml', () => {
  const { services } = compose;

  it('has redis, api and worker by default, and a postgres profile; api and worker from the same image with different commands', () => {
    expect(Object.keys(services).filter((s) => !services[s].profiles).sort()).toEqual(['api', 'redis', 'worker']);
    expect(Object.keys(services).filter((s) => services[s].profiles?.includes('postgres')).sort()).toEqual(['api-pg', 'postgres', 'worker-pg']);
    expect(services.api.image).toBe(services.worker.image);
    expect(services.api.build).toBeDefined();
    expect(services.api.command).toEqual(pkg.scripts.start.split(' '));
    expect(services.worker.command).toEqual(pkg.scripts.worker.split(' '));
    for (const cmd of [services.api.command!, services.worker.command!]) expect(existsSync(cmd[1].replace(/^dist\//, 'src/').replace(/\.js$/, '.ts'))).toBe(true);
  });

  it('runs redis with a health check and persistence suited to a job queue', () => {
    const redis = services.redis;
    expect(redis.image).toMatch(/^redis:7/);
    expect(redis.command!.join(' ')).toMatch(/--appendonly yes/);
    expect(redis.command!.join(' ')).toMatch(/--maxmemory-policy noeviction/);
    expect(redis.healthcheck!.test.join(' ')).toMatch(/redis-cli ping/);
    expect(redis.volumes!.some((v) => v.endsWith(':/data'))).toBe(true);
  });

  it('wires REDIS_URL, the admin token, ports, the shared volume and health-gated startup', () => {
    for (const name of ['api', 'worker'] as const) {
      const s = services[name];
      expect(s.environment!.REDIS_URL).toBe('redis://redis:6379');
      expect(s.environment!.DATABASE_PATH).toMatch(/^\/data\//);
      expect(s.environment!.MODEL_DIR).toMatch(/^\/data\//);
      expect(s.volumes).toContain('recflow-data:/data');
      expect(s.depends_on!.redis.condition).toBe('service_healthy');
      expect(s.restart).toBe('unless-stopped');
      expect(s.healthcheck!.test.length).toBeGreaterThan(0);
    }
    expect(services.api.environment!.ADMIN_TOKEN).toMatch(/\$\{ADMIN_TOKEN/);
    expect(services.api.environment!.HOST).toBe('0.0.0.0');
    expect(services.api.ports!.some((p) => p.endsWith(':8080'))).toBe(true);
    // Published on loopback unless the operator says otherwise: keys are not a reason to expose the port.
    expect(services.api.ports!.every((p) => p.startsWith('${RECFLOW_BIND:-127.0.0.1}:'))).toBe(true);
    expect(services.api.healthcheck!.test.join(' ')).toMatch(/readyz|healthz/);
    expect(services.worker.depends_on!.api.condition).toBe('service_healthy');
    expect(services.worker.healthcheck!.test.join(' ')).toContain('WORKER_HEARTBEAT_FILE');
    expect(services.worker.environment!.WORKER_HEARTBEAT_FILE).toBeDefined();
    expect(services.worker.stop_grace_period).toBeDefined();
    expect(Object.keys(compose.volumes).sort()).toEqual(['postgres-data', 'recflow-data', 'redis-data']);
  });

  it('sets only variables the service reads, and their defaults pass its config validation', () => {
    // The AWS SDK reads its credentials itself (SNAPSHOT_URL's bucket).
    const known = new Set([...ENVIRONMENT_VARIABLES, 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
    // Compose interpolation with nothing set in the shell: ${X:-d} and ${X-d} give d, ${X} gives ''.
    const interpolate = (v: string) => v.replace(/\$\{[A-Z0-9_]+(?::?-([^}]*))?\}/g, (_m, fallback: string | undefined) => fallback ?? '');
    const envOf = (name: string) => Object.fromEntries(Object.entries(services[name].environment!).map(([k, v]) => [k, interpolate(String(v))]));
    for (const name of ['api', 'worker', 'api-pg', 'worker-pg']) {
      expect(Object.keys(envOf(name)).filter((k) => !known.has(k))).toEqual([]);
      expect(() => loadConfig(envOf(name))).not.toThrow();
    }
    expect(loadConfig(envOf('api')).retrainCron).toBe('0 3 * * *');
    expect(loadConfig(envOf('api')).databaseUrl).toBeUndefined();
    expect(loadConfig(envOf('api-pg')).databaseUrl).toBe('postgres://recflow:recflow@postgres:5432/recflow');
  });

  it('the postgres profile: PostgreSQL, 2 API replicas and 2 workers sharing only the database and the queue (snapshots in the database), behind health checks', () => {
    const [pgApi, pgWorker, db] = [services['api-pg'], services['worker-pg'], services.postgres];
    expect(db.image).toMatch(/^postgres:15/);
    expect(db.healthcheck!.test.join(' ')).toMatch(/pg_isready/);
    expect(db.volumes!.some((v) => v.endsWith(':/var/lib/postgresql/data'))).toBe(true);
    expect(pgApi.deploy!.replicas).toBe(2);
    expect(pgWorker.deploy!.replicas).toBe(2);
    expect(pgApi.image).toBe(services.api.image);
    expect(pgApi.command).toEqual(services.api.command);
    expect(pgWorker.command).toEqual(services.worker.command);
    for (const name of ['DATABASE_URL', 'QUEUE_NAME', 'MODEL_DIR', 'REDIS_URL', 'EVENT_TYPES', 'PROMOTE_TOLERANCE']) expect(pgWorker.environment![name], name).toBe(pgApi.environment![name]);
    // Never the SQLite deployment's queue: its worker would train on the wrong database.
    expect(pgApi.environment!.QUEUE_NAME).not.toBe(services.api.environment!.QUEUE_NAME);
    // No shared volume: a replica on another host needs only DATABASE_URL (and SNAPSHOT_URL's bucket, if set).
    expect(pgApi.volumes).toBeUndefined();
    expect(pgWorker.volumes).toBeUndefined();
    for (const name of ['SNAPSHOT_URL', 'SNAPSHOT_S3_ENDPOINT']) expect(pgWorker.environment![name], name).toBe(pgApi.environment![name]);
    for (const s of [pgApi, pgWorker]) {
      expect(s.depends_on!.postgres.condition).toBe('service_healthy');
      expect(s.depends_on!.redis.condition).toBe('service_healthy');
      expect(s.healthcheck!.test.length).toBeGreaterThan(0);
    }
    expect(pgApi.healthcheck!.test).toEqual(services.api.healthcheck!.test);
    expect(pgWorker.depends_on!['api-pg'].condition).toBe('service_healthy');
    // Two replicas cannot publish one host port: a range, on loopback unless told otherwise.
    expect(pgApi.ports).toEqual(['${RECFLOW_BIND:-127.0.0.1}:8081-8082:8080']);
  });

  it('passes the settings training depends on to the API and the worker alike', () => {
    // What the worker reads to train, register and promote, and the API to validate and serve the same data.
    const shared = ['REDIS_URL', 'DATABASE_PATH', 'MODEL_DIR', 'QUEUE_NAME', 'TF_BACKEND', 'RATING_MIN', 'RATING_MAX', 'DISLIKE_THRESHOLD', 'EVENT_TYPES', 'EVENT_WEIGHTS', 'JOB_ATTEMPTS', 'JOB_BACKOFF_MS', 'JOB_LOCK_MS', 'PROMOTE_TOLERANCE', 'KEEP_VERSIONS', 'REFIT', 'SQLITE_SYNCHRONOUS', 'SQLITE_BUSY_TIMEOUT_MS'];
    for (const name of shared) {
      expect(services.api.environment![name], name).toBeDefined();
      expect(services.worker.environment![name], name).toBe(services.api.environment![name]);
    }
    // The compose default for EVENT_TYPES is the service's own default.
    expect(loadConfig({ EVENT_TYPES: String(services.api.environment!.EVENT_TYPES).replace(/^\$\{EVENT_TYPES:-(.*)\}$/, '$1') }).eventWeights).toEqual(loadConfig({}).eventWeights);
  });
});
