import type { OnlineDayRow, OnlineDays } from '../db/online-repository.js';

export const GROUP_DIMENSIONS = ['route', 'model', 'version', 'experiment', 'variant'] as const;
export type GroupDimension = (typeof GROUP_DIMENSIONS)[number];

export interface OnlineFigures {
  lists: number;
  slots: number;
  positiveSlots: number;
  /** CTR@k: seen slots among the first k with positive feedback, over seen slots among the first k. */
  ctr: number | null;
  /** Lists with any positive feedback, over lists (Gorse's positive-feedback rate). */
  positiveRate: number | null;
  /** Attributed feedback per seen slot, by type. */
  conversions: Record<string, { count: number; rate: number }>;
  /** Distinct items shown in a day over the catalogue, averaged over the days. */
  coverage: number | null;
  /** Mean −log2 of a shown item's share of users: higher shows less popular items. */
  novelty: number | null;
}

export type GroupKey = Partial<Record<GroupDimension, string | null>>;

export interface OnlineReport {
  k: number;
  computedAt: number | null;
  catalogueItems: number;
  groupBy: GroupDimension[];
  totals: (GroupKey & OnlineFigures)[];
  days: { day: string; groups: (GroupKey & OnlineFigures)[] }[];
  sources: { source: string; slots: number; positiveSlots: number; ctr: number | null }[];
}

const field: Record<GroupDimension, (r: OnlineDayRow) => string | null> = {
  route: (r) => r.route,
  model: (r) => r.model,
  version: (r) => r.modelVersion,
  experiment: (r) => r.experimentId,
  variant: (r) => r.variant,
};

interface Acc {
  key: GroupKey;
  lists: number;
  slots: number;
  positiveSlots: number;
  positiveLists: number;
  noveltySum: number;
  noveltyCount: number;
  conversions: Record<string, number>;
  /** Per day, the most distinct items any merged row showed (a lower bound of their union). */
  distinctByDay: Map<number, number>;
}

function add(acc: Acc, r: OnlineDayRow): void {
  acc.lists += r.lists;
  acc.slots += r.slots;
  acc.positiveSlots += r.positiveSlots;
  acc.positiveLists += r.positiveLists;
  acc.noveltySum += r.noveltySum;
  acc.noveltyCount += r.noveltyCount;
  for (const [t, n] of Object.entries(r.conversions)) acc.conversions[t] = (acc.conversions[t] ?? 0) + n;
  acc.distinctByDay.set(r.day, Math.max(acc.distinctByDay.get(r.day) ?? 0, r.distinctItems));
}

function figures(acc: Acc, catalogueItems: number): GroupKey & OnlineFigures {
  const allSlots = acc.slots;
  const daily = [...acc.distinctByDay.values()];
  return {
    ...acc.key,
    lists: acc.lists,
    slots: acc.slots,
    positiveSlots: acc.positiveSlots,
    ctr: allSlots > 0 ? acc.positiveSlots / allSlots : null,
    positiveRate: acc.lists > 0 ? acc.positiveLists / acc.lists : null,
    conversions: Object.fromEntries(Object.entries(acc.conversions).map(([t, n]) => [t, { count: n, rate: allSlots > 0 ? n / allSlots : 0 }])),
    coverage: catalogueItems > 0 && daily.length > 0 ? daily.reduce((a, b) => a + b, 0) / daily.length / catalogueItems : null,
    novelty: acc.noveltyCount > 0 ? acc.noveltySum / acc.noveltyCount : null,
  };
}

function grouped(rows: readonly OnlineDayRow[], by: readonly GroupDimension[], catalogueItems: number): (GroupKey & OnlineFigures)[] {
  const accs = new Map<string, Acc>();
  for (const r of rows) {
    const key = Object.fromEntries(by.map((d) => [d, field[d](r)])) as GroupKey;
    const id = JSON.stringify(by.map((d) => key[d]));
    let acc = accs.get(id);
    if (!acc) accs.set(id, (acc = { key, lists: 0, slots: 0, positiveSlots: 0, positiveLists: 0, noveltySum: 0, noveltyCount: 0, conversions: {}, distinctByDay: new Map() }));
    add(acc, r);
  }
  return [...accs.values()].map((a) => figures(a, catalogueItems)).sort((a, b) => b.lists - a.lists);
}

const isoDay = (day: number): string => new Date(day * 86_400_000).toISOString().slice(0, 10);

/** The online metrics over the last `days` days, grouped by the chosen dimensions: totals, a daily trend, and per source. */
export function onlineReport(data: OnlineDays | null, options: { k: number; days: number; by: readonly GroupDimension[]; now: number; computedAt: number | null; catalogueItems: number }): OnlineReport {
  const firstDay = Math.floor(options.now / 86_400_000) - options.days + 1;
  const rows = (data?.lists ?? []).filter((r) => r.day >= firstDay);
  const dayNumbers = [...new Set(rows.map((r) => r.day))].sort((a, b) => a - b);
  const sources = new Map<string, { slots: number; positiveSlots: number }>();
  for (const s of data?.sources ?? []) {
    if (s.day < firstDay) continue;
    const acc = sources.get(s.source) ?? { slots: 0, positiveSlots: 0 };
    acc.slots += s.slots;
    acc.positiveSlots += s.positiveSlots;
    sources.set(s.source, acc);
  }
  return {
    k: options.k,
    computedAt: options.computedAt,
    catalogueItems: options.catalogueItems,
    groupBy: [...options.by],
    totals: grouped(rows, options.by, options.catalogueItems),
    days: dayNumbers.map((d) => ({ day: isoDay(d), groups: grouped(rows.filter((r) => r.day === d), options.by, options.catalogueItems) })),
    sources: [...sources].map(([source, s]) => ({ source, ...s, ctr: s.slots > 0 ? s.positiveSlots / s.slots : null })).sort((a, b) => b.slots - a.slots),
  };
}
