import type { ExperimentMode, ExperimentRow, ExperimentStatus, OnlineDayRow } from './online-repository.js';

export const DAY_MS = 86_400_000;
/** Feedback stamped up to this long before its impression still counts (client and server clocks differ). */
export const ATTRIBUTION_SKEW_MS = 60_000;

/** An experiments row as both engines return it (times may come back as strings from PostgreSQL's BIGINT). */
export interface ExperimentDbRow {
  id: string;
  name: string;
  mode: string;
  status: string;
  spec: string;
  verdict: string | null;
  winner: string | null;
  created_at: number | string;
  stopped_at: number | string | null;
  concluded_at: number | string | null;
}

const time = (v: number | string | null): number | null => (v === null ? null : Number(v));

export function experimentFromRow(r: ExperimentDbRow): ExperimentRow {
  return {
    id: r.id,
    name: r.name,
    mode: r.mode as ExperimentMode,
    status: r.status as ExperimentStatus,
    spec: r.spec,
    verdict: r.verdict,
    winner: r.winner,
    createdAt: Number(r.created_at),
    stoppedAt: time(r.stopped_at),
    concludedAt: time(r.concluded_at),
  };
}

type GroupKey = Pick<OnlineDayRow, 'day' | 'route' | 'model' | 'modelVersion' | 'experimentId' | 'variant'>;
const keyOf = (r: GroupKey): string => JSON.stringify([Number(r.day), r.route, r.model, r.modelVersion, r.experimentId, r.variant]);

/** Joins the per-type conversion counts onto their day rows. */
export function groupConversions(lists: readonly Omit<OnlineDayRow, 'conversions'>[], conversions: readonly (GroupKey & { type: string; n: number | string })[]): OnlineDayRow[] {
  const byKey = new Map<string, OnlineDayRow>();
  for (const r of lists) {
    byKey.set(keyOf(r), {
      ...r,
      day: Number(r.day),
      lists: Number(r.lists),
      slots: Number(r.slots),
      positiveSlots: Number(r.positiveSlots),
      positiveLists: Number(r.positiveLists),
      distinctItems: Number(r.distinctItems),
      noveltySum: Number(r.noveltySum),
      noveltyCount: Number(r.noveltyCount),
      conversions: {},
    });
  }
  for (const c of conversions) {
    const row = byKey.get(keyOf(c));
    if (row) row.conversions[c.type] = Number(c.n);
  }
  return [...byKey.values()];
}
