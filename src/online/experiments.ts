import crypto from 'node:crypto';
import type { ExperimentMode, ExperimentRow, ExperimentStatus, OnlineRepository } from '../db/online-repository.js';
import { assignVariant, unitHash } from './assign.js';

/** What a variant serves: a model (its active version, or one named version) and/or one pipeline source alone. */
export interface Variant {
  name: string;
  share: number;
  model?: string;
  version?: string;
  source?: string;
}

export interface ExperimentSpec {
  variants: Variant[];
  /** `positive` (any positive feedback) or one event type: what counts as a success on a shown item. */
  metric: string;
  alpha: number;
  /** The effect the sequential test is tuned to (its mixing scale τ). */
  minimumEffect: number;
  /** No verdict before each variant (interleaving: the experiment) has this many users. */
  minUsers: number;
}

/** The sequential test's decision, fixed the first time it is reached. */
export interface Verdict {
  decidedAt: number;
  /** The better variant, or null for "no difference" (recorded when concluded without a decision). */
  winner: string | null;
  pValue: number;
  effect: number;
}

export interface Experiment {
  id: string;
  name: string;
  mode: ExperimentMode;
  status: ExperimentStatus;
  spec: ExperimentSpec;
  verdict: Verdict | null;
  winner: string | null;
  createdAt: number;
  stoppedAt: number | null;
  concludedAt: number | null;
}

export interface NewExperiment {
  name: string;
  mode: ExperimentMode;
  variants: Variant[];
  metric: string;
  alpha: number;
  minimumEffect: number;
  minUsers: number;
}

export class NoSuchExperimentError extends Error {}
export class ExperimentStateError extends Error {}

/** The A/B variant a user is in: a hash of (experiment, user) into the shares, the same on every replica. */
export const variantFor = (e: Experiment, userId: string): Variant => assignVariant(e.spec.variants, unitHash(e.id, userId));

const parse = (r: ExperimentRow): Experiment => ({ ...r, spec: JSON.parse(r.spec) as ExperimentSpec, verdict: r.verdict ? (JSON.parse(r.verdict) as Verdict) : null });

/**
 * The experiments and the one that splits traffic now. Every process reads the running one from
 * the database (at most `pollMs` old), so replicas assign users alike: assignment is a hash of
 * (experiment, user), sticky without any state.
 */
export class ExperimentBook {
  private current: Experiment | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Called when the running experiment changes (reports and caches follow it). */
  onChange: (() => void) | null = null;

  constructor(private readonly repo: OnlineRepository) {}

  async start(pollMs: number): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => void this.reload().catch(() => undefined), pollMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  get running(): Experiment | null {
    return this.current;
  }

  async reload(): Promise<void> {
    const running = (await this.repo.experiments()).find((e) => e.status === 'running');
    const next = running ? parse(running) : null;
    const changed = next?.id !== this.current?.id;
    this.current = next;
    if (changed) this.onChange?.();
  }

  async list(): Promise<Experiment[]> {
    return (await this.repo.experiments()).map(parse);
  }

  async get(id: string): Promise<Experiment> {
    const row = await this.repo.experiment(id);
    if (!row) throw new NoSuchExperimentError(id);
    return parse(row);
  }

  /** Starts an experiment at once (ExperimentRunningError while another runs). */
  async create(input: NewExperiment, now: number): Promise<Experiment> {
    const { name, mode, ...spec } = input;
    const row: ExperimentRow = { id: crypto.randomUUID(), name, mode, status: 'running', spec: JSON.stringify(spec), verdict: null, winner: null, createdAt: now, stoppedAt: null, concludedAt: null };
    await this.repo.createExperiment(row);
    await this.reload();
    return parse(row);
  }

  /** Stops splitting traffic; the report stays readable and the experiment can still be concluded. */
  async stop(id: string, now: number): Promise<Experiment> {
    const e = await this.get(id);
    if (e.status !== 'running') throw new ExperimentStateError(`experiment ${id} is ${e.status}, not running`);
    const row = await this.repo.updateExperiment(id, { status: 'stopped', stoppedAt: now });
    await this.reload();
    return parse(row!);
  }

  /**
   * Records the outcome: the winner named, else the sequential test's, else "no difference". A
   * named winner that contradicts a reached verdict is refused (the test said otherwise).
   */
  async conclude(id: string, winner: string | undefined, fallback: Verdict | null, now: number): Promise<Experiment> {
    const e = await this.get(id);
    if (e.status === 'concluded') throw new ExperimentStateError(`experiment ${id} is already concluded`);
    if (winner !== undefined && !e.spec.variants.some((v) => v.name === winner)) throw new ExperimentStateError(`experiment ${id} has no variant ${winner}`);
    const verdict = e.verdict ?? fallback;
    if (winner !== undefined && verdict?.winner && verdict.winner !== winner) throw new ExperimentStateError(`the sequential test found ${verdict.winner} better; concluding for ${winner} would contradict it`);
    const row = await this.repo.updateExperiment(id, {
      status: 'concluded',
      winner: winner ?? verdict?.winner ?? null,
      verdict: verdict ? JSON.stringify(verdict) : null,
      stoppedAt: e.stoppedAt ?? now,
      concludedAt: now,
    });
    await this.reload();
    return parse(row!);
  }

  /** Fixes the sequential test's decision the first time it is reached (later looks cannot undo it). */
  async decide(id: string, verdict: Verdict): Promise<void> {
    const e = await this.get(id);
    if (e.verdict) return;
    await this.repo.updateExperiment(id, { verdict: JSON.stringify(verdict) });
    if (this.current?.id === id) this.current = { ...this.current, verdict };
  }
}
