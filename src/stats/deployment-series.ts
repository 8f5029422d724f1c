import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { mergeIntervals, type ServingInterval, type ServingSample } from './serving-series.js';

export interface DeploymentServing {
  series: ServingSample[];
  /** API processes that reported in the window. */
  processes: number;
}

/**
 * The serving chart of every API replica together. Each process writes its interval counts into
 * Redis, one hash per sampling slot (`slot → process → counts`, expiring after the window), and
 * then reads the window back in one pipelined round trip and merges it; requests read the last
 * merge. Cost per sample: `keep` small hashes, whatever the traffic.
 */
export class DeploymentSeries {
  private merged: DeploymentServing | null = null;
  private readonly process = randomUUID();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly sampleMs: number,
    private readonly keep = 120,
  ) {}

  /** The last merge, or null before the first one (or while Redis is unreachable since start). */
  get value(): DeploymentServing | null {
    return this.merged;
  }

  /** Publishes this process's interval, then merges the window; a Redis failure keeps the previous merge. */
  async record(interval: ServingInterval): Promise<void> {
    const slot = Math.floor(interval.t / this.sampleMs);
    await this.redis
      .multi()
      .hset(`${this.prefix}${slot}`, this.process, JSON.stringify(interval, (_k, v: unknown) => (v === Infinity ? 'Infinity' : v)))
      .pexpire(`${this.prefix}${slot}`, (this.keep + 2) * this.sampleMs)
      .exec();
    this.merged = await this.read(slot);
  }

  private async read(last: number): Promise<DeploymentServing> {
    const slots = Array.from({ length: this.keep }, (_, k) => last - this.keep + 1 + k);
    const pipeline = this.redis.pipeline();
    for (const slot of slots) pipeline.hgetall(`${this.prefix}${slot}`);
    const replies = (await pipeline.exec()) ?? [];
    const processes = new Set<string>();
    const series: ServingSample[] = [];
    slots.forEach((slot, k) => {
      const [err, hash] = replies[k] ?? [null, {}];
      if (err) throw err;
      const entries = Object.entries(hash as Record<string, string>);
      if (entries.length === 0) return;
      const intervals = entries.map(([process, json]) => {
        processes.add(process);
        return JSON.parse(json, (_k, v: unknown) => (v === 'Infinity' ? Infinity : v)) as ServingInterval;
      });
      series.push(mergeIntervals((slot + 1) * this.sampleMs, intervals));
    });
    return { series, processes: processes.size };
  }
}
