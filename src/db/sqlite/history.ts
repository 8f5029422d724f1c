import { type HistoryRepository, type HistoryRow, toPage } from '../history-repository.js';
import type { Db } from './connection.js';
import { promised } from './promised.js';

export function createHistoryRepository(db: Db): HistoryRepository {
  const findUser = db.prepare('SELECT id FROM users WHERE external_id = ?').pluck();
  // 'event' < 'rating' alphabetically, which fixes the tie order between the two kinds. Each branch
  // reads at most one page from its (user_id, ts) index and only the page's items are looked up:
  // reading every interaction of the user first made a page of a 200,000-interaction user cost
  // 65 ms on the event loop; now ~1 ms whatever the user holds.
  const after = (kind: 'rating' | 'event') => `(@ts IS NULL OR ts < @ts OR (ts = @ts AND ('${kind}' > @kind OR ('${kind}' = @kind AND id < @id))))`;
  const select = db.prepare(`
    SELECT p.kind, p.id, p.ts, (SELECT external_id FROM items WHERE id = p.item_id) AS item, p.value, p.type, p.event_id FROM (
      SELECT * FROM (SELECT 'rating' AS kind, id, ts, item_id, value, NULL AS type, NULL AS event_id
        FROM ratings WHERE user_id = @user AND ${after('rating')} ORDER BY ts DESC, id DESC LIMIT @limit)
      UNION ALL
      SELECT * FROM (SELECT 'event' AS kind, id, ts, item_id, value, type, event_id
        FROM events WHERE user_id = @user AND ${after('event')} ORDER BY ts DESC, id DESC LIMIT @limit)
    ) p
    ORDER BY p.ts DESC, p.kind ASC, p.id DESC
    LIMIT @limit`);

  return promised<HistoryRepository>({
    page(externalUserId, limit, after) {
      const user = findUser.get(externalUserId) as number | undefined;
      if (user === undefined) return undefined;
      const rows = select.all({
        user,
        ts: after?.ts ?? null,
        kind: after?.kind ?? null,
        id: after?.id ?? null,
        limit: limit + 1,
      }) as HistoryRow[];
      return toPage(rows, limit);
    },
  });
}
