import {
  POSITIVE_METRIC,
  ExperimentRunningError,
  type Attribution,
  type ExperimentRow,
  type OnlineBatch,
  type OnlineDayRow,
  type OnlineRepository,
  type SourceDayRow,
  type VariantSums,
} from '../online-repository.js';
import { ATTRIBUTION_SKEW_MS, DAY_MS, experimentFromRow, groupConversions, type ExperimentDbRow } from '../online-rows.js';
import { changes, countOf, row, rows, transaction, type Client, type Pool } from './pool.js';

const UNIQUE_VIOLATION = '23505';
const POSITIVE_FEEDBACK = 'EXISTS (SELECT 1 FROM impression_feedback f WHERE f.impression_id = ii.impression_id AND f.position = ii.position AND f.positive = 1)';
const metricFeedback = (param: string): string => `EXISTS (SELECT 1 FROM impression_feedback f WHERE f.impression_id = ii.impression_id AND f.position = ii.position
  AND (($${param} = '${POSITIVE_METRIC}' AND f.positive = 1) OR f.type = $${param}))`;
const count = (condition: string): string => `COUNT(*) FILTER (WHERE ${condition})`;
const GROUP = `i.created_at / ${DAY_MS}, i.route, i.model, i.model_version, i.experiment_id, i.variant`;
const GROUP_COLUMNS = `i.created_at / ${DAY_MS} AS day, i.route, i.model, i.model_version AS "modelVersion", i.experiment_id AS "experimentId", i.variant`;

async function insertImpressions(client: Client, batch: OnlineBatch): Promise<number> {
  if (batch.impressions.length === 0) return 0;
  const imps = batch.impressions;
  const items = imps.flatMap((imp) => imp.items.map((x, position) => ({ ...x, id: imp.id, position, userId: imp.userId, at: imp.createdAt })));
  const col = <T>(list: readonly T[], f: (x: T) => unknown): unknown[] => list.map(f);
  const result = await client.query(
    `WITH imp AS (
       INSERT INTO impressions (id, route, user_id, model, model_version, experiment_id, variant, exploration, pool_size, created_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[], $9::int[], $10::bigint[])
       ON CONFLICT DO NOTHING RETURNING id)
     INSERT INTO impression_items (impression_id, position, item_id, user_id, source, team, propensity, novelty, created_at)
     SELECT x.* FROM unnest($11::text[], $12::int[], $13::text[], $14::text[], $15::text[], $16::text[], $17::float8[], $18::float8[], $19::bigint[])
       AS x(impression_id, position, item_id, user_id, source, team, propensity, novelty, created_at)
     WHERE x.impression_id IN (SELECT id FROM imp)
     RETURNING impression_id`,
    [
      col(imps, (i) => i.id), col(imps, (i) => i.route), col(imps, (i) => i.userId), col(imps, (i) => i.model), col(imps, (i) => i.modelVersion),
      col(imps, (i) => i.experimentId), col(imps, (i) => i.variant), col(imps, (i) => i.exploration), col(imps, (i) => i.poolSize), col(imps, (i) => i.createdAt),
      col(items, (x) => x.id), col(items, (x) => x.position), col(items, (x) => x.itemId), col(items, (x) => x.userId), col(items, (x) => x.source),
      col(items, (x) => x.team), col(items, (x) => x.propensity), col(items, (x) => x.novelty), col(items, (x) => x.at),
    ],
  );
  return new Set(result.rows.map((r: { impression_id: string }) => r.impression_id)).size;
}

async function applyReports(client: Client, batch: OnlineBatch): Promise<number> {
  let unknown = 0;
  for (const r of batch.reports) {
    if ((await changes(client, 'UPDATE impressions SET reported = 1 WHERE id = $1', [r.recommendationId])) === 0) unknown++;
    else await client.query('UPDATE impression_items SET seen = CASE WHEN item_id = ANY($2::text[]) THEN 1 ELSE 0 END WHERE impression_id = $1', [r.recommendationId, r.itemIds]);
  }
  return unknown;
}

/** Every feedback row finds its slot (the answer it names, else the newest in the window) in one statement. */
async function attribute(client: Client, batch: OnlineBatch): Promise<Attribution[]> {
  const fb = batch.feedback;
  if (fb.length === 0) return [];
  const found = await rows<{ type: string; exact: number; model: string; variant: string | null }>(
    client,
    `WITH fb AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bigint[], $6::text[]) WITH ORDINALITY AS f(user_id, item_id, type, positive, at, rec, ord)),
     slot AS (
       SELECT fb.ord, fb.type, fb.positive, fb.at, s.impression_id, s.position, s.exact FROM fb
       CROSS JOIN LATERAL (
         (SELECT ii.impression_id, ii.position, 1 AS exact FROM impression_items ii JOIN impressions i ON i.id = ii.impression_id
           WHERE fb.rec IS NOT NULL AND ii.impression_id = fb.rec AND ii.item_id = fb.item_id AND ii.seen = 1 AND (i.user_id IS NULL OR i.user_id = fb.user_id)
           ORDER BY ii.position LIMIT 1)
         UNION ALL
         (SELECT ii.impression_id, ii.position, 0 AS exact FROM impression_items ii
           WHERE ii.user_id = fb.user_id AND ii.item_id = fb.item_id AND ii.created_at BETWEEN fb.at - $7 AND fb.at + $8 AND ii.seen = 1
           ORDER BY ii.created_at DESC LIMIT 1)
         ORDER BY exact DESC LIMIT 1) s),
     ins AS (
       INSERT INTO impression_feedback (impression_id, position, type, positive, exact, at)
       SELECT DISTINCT ON (impression_id, position, type) impression_id, position, type, positive, exact, at FROM slot ORDER BY impression_id, position, type, ord
       ON CONFLICT DO NOTHING RETURNING impression_id, type, exact)
     SELECT ins.type, ins.exact, i.model, i.variant FROM ins JOIN impressions i ON i.id = ins.impression_id`,
    [fb.map((f) => f.userId), fb.map((f) => f.itemId), fb.map((f) => f.type), fb.map((f) => (f.positive ? 1 : 0)), fb.map((f) => f.at), fb.map((f) => f.recommendationId ?? null), batch.windowMs, ATTRIBUTION_SKEW_MS],
  );
  return found.map((r) => ({ type: r.type, exact: r.exact === 1, model: r.model, variant: r.variant }));
}

async function days(pool: Pool, since: number, k: number): Promise<{ lists: OnlineDayRow[]; sources: SourceDayRow[] }> {
  const lists = await rows<Omit<OnlineDayRow, 'conversions'>>(
    pool,
    `SELECT ${GROUP_COLUMNS}, COUNT(DISTINCT i.id) AS lists, ${count('ii.position < $2')} AS slots,
       ${count(`ii.position < $2 AND ${POSITIVE_FEEDBACK}`)} AS "positiveSlots",
       COUNT(DISTINCT CASE WHEN ${POSITIVE_FEEDBACK} THEN i.id END) AS "positiveLists",
       COUNT(DISTINCT ii.item_id) AS "distinctItems", coalesce(SUM(ii.novelty), 0) AS "noveltySum", COUNT(ii.novelty) AS "noveltyCount"
     FROM impressions i JOIN impression_items ii ON ii.impression_id = i.id
     WHERE i.created_at >= $1 AND ii.seen = 1 GROUP BY ${GROUP}`,
    [since, k],
  );
  const conversions = await rows<Parameters<typeof groupConversions>[1][number]>(
    pool,
    `SELECT ${GROUP_COLUMNS}, f.type, COUNT(*) AS n
     FROM impression_feedback f JOIN impressions i ON i.id = f.impression_id JOIN impression_items ii ON ii.impression_id = f.impression_id AND ii.position = f.position
     WHERE i.created_at >= $1 AND ii.seen = 1 GROUP BY ${GROUP}, f.type`,
    [since],
  );
  const sources = await rows<SourceDayRow>(
    pool,
    `SELECT ii.created_at / ${DAY_MS} AS day, ii.source, ${count('ii.position < $2')} AS slots, ${count(`ii.position < $2 AND ${POSITIVE_FEEDBACK}`)} AS "positiveSlots"
     FROM impression_items ii WHERE ii.created_at >= $1 AND ii.seen = 1 GROUP BY 1, ii.source`,
    [since, k],
  );
  return { lists: groupConversions(lists, conversions), sources: sources.map((s) => ({ day: Number(s.day), source: s.source, slots: Number(s.slots), positiveSlots: Number(s.positiveSlots) })) };
}

const numbers = (r: VariantSums): VariantSums => ({
  ...r,
  users: Number(r.users),
  sum: Number(r.sum),
  sumSquares: Number(r.sumSquares),
  impressions: Number(r.impressions),
  slots: Number(r.slots),
  positives: Number(r.positives),
});

async function variantSums(pool: Pool, experiment: string, mode: 'ab' | 'interleave', metric: string, first: string): Promise<VariantSums[]> {
  if (mode === 'ab') {
    const found = await rows<VariantSums>(
      pool,
      `SELECT variant, COUNT(*) AS users, SUM(x) AS sum, SUM(x * x) AS "sumSquares", SUM(lists) AS impressions, SUM(slots) AS slots, SUM(hits) AS positives
       FROM (SELECT i.variant, COUNT(DISTINCT i.id) AS lists, COUNT(*) AS slots, ${count(metricFeedback('2'))} AS hits, ${count(metricFeedback('2'))}::float8 / COUNT(*) AS x
             FROM impressions i JOIN impression_items ii ON ii.impression_id = i.id
             WHERE i.experiment_id = $1 AND i.user_id IS NOT NULL AND ii.seen = 1 GROUP BY i.variant, i.user_id) u
       GROUP BY variant ORDER BY variant`,
      [experiment, metric],
    );
    return found.map(numbers);
  }
  const found = await rows<VariantSums & { firstWins: string; secondWins: string }>(
    pool,
    `SELECT 'interleaved' AS variant, COUNT(*) AS users, SUM(x) AS sum, SUM(x * x) AS "sumSquares", SUM(lists) AS impressions, SUM(slots) AS slots,
       SUM(hits) AS positives, SUM("firstWins") AS "firstWins", SUM("secondWins") AS "secondWins"
     FROM (SELECT user_id, COUNT(*) AS lists, SUM(slots) AS slots, SUM(a + b) AS hits, SUM(sign(a - b))::float8 / COUNT(*) AS x,
             ${count('a > b')} AS "firstWins", ${count('b > a')} AS "secondWins"
           FROM (SELECT i.id, i.user_id, COUNT(*) AS slots, ${count(`ii.team = $3 AND ${metricFeedback('2')}`)} AS a, ${count(`ii.team <> $3 AND ${metricFeedback('2')}`)} AS b
                 FROM impressions i JOIN impression_items ii ON ii.impression_id = i.id
                 WHERE i.experiment_id = $1 AND i.user_id IS NOT NULL AND ii.seen = 1 GROUP BY i.id, i.user_id) per_impression
           GROUP BY user_id) per_user`,
    [experiment, metric, first],
  );
  return found
    .filter((r) => Number(r.users) > 0)
    .map(({ firstWins, secondWins, ...r }) => ({ ...numbers(r), wins: { first: Number(firstWins), second: Number(secondWins) } }));
}

export function postgresOnline(pool: Pool): OnlineRepository {
  return {
    record: (batch) =>
      transaction(pool, async (client) => {
        const impressions = await insertImpressions(client, batch);
        const unknownReports = await applyReports(client, batch);
        return { impressions, unknownReports, attributed: await attribute(client, batch) };
      }),
    days: (since, k) => days(pool, since, k),
    variantSums: (experiment, mode, metric, first) => variantSums(pool, experiment, mode, metric, first),
    explorationLogs: async (since, limit) => {
      const found = await rows<{ id: string; user_id: string; created_at: string; items: { position: number; itemId: string; propensity: number; positive: boolean }[] }>(
        pool,
        `SELECT i.id, i.user_id, i.created_at,
           (SELECT json_agg(json_build_object('position', ii.position, 'itemId', ii.item_id, 'propensity', ii.propensity, 'positive', ${POSITIVE_FEEDBACK}) ORDER BY ii.position)
              FROM impression_items ii WHERE ii.impression_id = i.id AND ii.seen = 1) AS items
         FROM impressions i WHERE i.exploration > 0 AND i.user_id IS NOT NULL AND i.created_at >= $1 ORDER BY i.created_at DESC LIMIT $2`,
        [since, limit],
      );
      return found.map((r) => ({ id: r.id, userId: r.user_id, createdAt: Number(r.created_at), items: r.items ?? [] }));
    },
    purge: (before) =>
      transaction(pool, async (client) => {
        await client.query('DELETE FROM impression_feedback WHERE impression_id IN (SELECT id FROM impressions WHERE created_at < $1)', [before]);
        await client.query('DELETE FROM impression_items WHERE created_at < $1', [before]);
        return changes(client, 'DELETE FROM impressions WHERE created_at < $1', [before]);
      }),
    impressionCount: () => countOf(pool, 'impressions'),
    createExperiment: async (r) => {
      try {
        await pool.query(
          'INSERT INTO experiments (id, name, mode, status, spec, verdict, winner, created_at, stopped_at, concluded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
          [r.id, r.name, r.mode, r.status, r.spec, r.verdict, r.winner, r.createdAt, r.stoppedAt, r.concludedAt],
        );
      } catch (err) {
        if ((err as { code?: string }).code === UNIQUE_VIOLATION) throw new ExperimentRunningError();
        throw err;
      }
    },
    experiments: async () => (await rows<ExperimentDbRow>(pool, 'SELECT * FROM experiments ORDER BY created_at DESC, id')).map(experimentFromRow),
    experiment: async (id) => {
      const r = await row<ExperimentDbRow>(pool, 'SELECT * FROM experiments WHERE id = $1', [id]);
      return r ? experimentFromRow(r) : null;
    },
    updateExperiment: (id, change: Partial<ExperimentRow>) =>
      transaction(pool, async (client) => {
        const current = await row<ExperimentDbRow>(client, 'SELECT * FROM experiments WHERE id = $1 FOR UPDATE', [id]);
        if (!current) return null;
        const next = { ...experimentFromRow(current), ...change };
        try {
          await client.query('UPDATE experiments SET status = $2, verdict = $3, winner = $4, stopped_at = $5, concluded_at = $6 WHERE id = $1', [id, next.status, next.verdict, next.winner, next.stoppedAt, next.concludedAt]);
        } catch (err) {
          if ((err as { code?: string }).code === UNIQUE_VIOLATION) throw new ExperimentRunningError();
          throw err;
        }
        return next;
      }),
  };
}
