import type { LeaderboardEntry } from '../train/auto.js';

const fmt = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(4));

/** The `auto` leaderboard as a text table, best validation first; the winner is starred. */
export function formatLeaderboard(entries: readonly LeaderboardEntry[], winner: number): string {
  const hr = (k: number): number => entries[k].valid?.['HR@10'] ?? -1;
  const order = entries.map((_, k) => k).sort((a, b) => hr(b) - hr(a) || Number(b === winner) - Number(a === winner) || entries[a].seconds - entries[b].seconds);
  const head = ['', 'model', 'hyperparameters', 'valid HR@10', 'valid NDCG@10', 'test HR@10', 'test NDCG@10', 'seconds', 'status'];
  const rows = order.map((k) => {
    const e = entries[k];
    return [k === winner ? '*' : '', e.model, JSON.stringify(e.hyper), fmt(e.valid?.['HR@10']), fmt(e.valid?.['NDCG@10']), fmt(e.test?.['HR@10']), fmt(e.test?.['NDCG@10']), e.seconds.toFixed(1), e.status + (e.note ? ` (${e.note})` : '')];
  });
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]): string => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd();
  return [line(head), ...rows.map(line), '', '* chosen by validation HR@10; test metrics are reported, never used for the choice'].join('\n');
}
