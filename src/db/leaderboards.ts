import type { DailyCount, ServingRepository } from './serving-repository.js';

const DAY_MS = 86_400_000;

/** One leaderboard to compute: plain data, so it crosses into a database thread. */
export interface LeaderboardSpec {
  name: string;
  /** Days counted back from the clock; 0 = everything. */
  windowDays: number;
  /** Feedback this many days old counts half; null = no decay. */
  halfLifeDays: number | null;
  /** `now`: the wall clock; `data`: the newest stored interaction (imported history). */
  clock: 'now' | 'data';
  category?: string;
  label?: { key: string; value: string };
  /** What one interaction counts: `rating` for a positive rating, an event type for its events; missing types count 0. */
  feedback: Readonly<Record<string, number>>;
  /** Items kept, best first: bounds memory and the scan of a heavily filtered request. */
  maxItems: number;
}

/** A computed leaderboard, best first. */
export interface LeaderboardRanking {
  name: string;
  items: string[];
  scores: Float64Array;
  /** When it was computed (epoch ms). */
  at: number;
}

/** The `n` highest of `totals`, best first; ties by id so a ranking is stable between refreshes. */
function topOf(totals: Map<string, number>, n: number): { items: string[]; scores: Float64Array } {
  const entries = [...totals].filter(([, s]) => s > 0).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const top = entries.slice(0, n);
  return { items: top.map((e) => e[0]), scores: Float64Array.from(top, (e) => e[1]) };
}

/** Scores of one leaderboard from per-item daily counts: feedback weight × count × 2^(−age / half-life) inside the window. */
export function rankLeaderboard(counts: readonly DailyCount[], spec: LeaderboardSpec, reference: number, members: ReadonlySet<string> | null, at: number): LeaderboardRanking {
  const today = Math.floor(reference / DAY_MS);
  const firstDay = spec.windowDays > 0 ? Math.floor((reference - spec.windowDays * DAY_MS) / DAY_MS) : -Infinity;
  const decay = spec.halfLifeDays ? Math.LN2 / spec.halfLifeDays : 0;
  const totals = new Map<string, number>();
  for (const row of counts) {
    if (row.day < firstDay) continue;
    if (members && !members.has(row.item)) continue;
    const weight = spec.feedback[row.type ?? 'rating'] ?? 0;
    if (weight <= 0) continue;
    const age = Math.max(0, today - row.day);
    totals.set(row.item, (totals.get(row.item) ?? 0) + weight * row.count * (decay ? Math.exp(-decay * age) : 1));
  }
  return { name: spec.name, ...topOf(totals, spec.maxItems), at };
}

/**
 * Every leaderboard from one read of the daily counts (back to the earliest window any of them
 * needs) plus one member list per category or label filter. Runs in a database thread: its cost
 * grows with the interactions stored.
 */
export async function computeLeaderboards(repo: ServingRepository, specs: readonly LeaderboardSpec[], dislikeAt: number, now: number): Promise<LeaderboardRanking[]> {
  if (specs.length === 0) return [];
  const newest = (await repo.newestInteraction()) || now;
  const referenceOf = (spec: LeaderboardSpec): number => (spec.clock === 'data' ? newest : now);
  const since = Math.min(...specs.map((s) => (s.windowDays > 0 ? referenceOf(s) - (s.windowDays + 1) * DAY_MS : 0)));
  const counts = await repo.dailyCounts(Math.max(0, since), dislikeAt);
  const out: LeaderboardRanking[] = [];
  for (const spec of specs) {
    const members = spec.category !== undefined ? new Set(await repo.itemsInCategory(spec.category)) : spec.label ? new Set(await repo.itemsWithLabel(spec.label.key, spec.label.value)) : null;
    out.push(rankLeaderboard(counts, spec, referenceOf(spec), members, now));
  }
  return out;
}
