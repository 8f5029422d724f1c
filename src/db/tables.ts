/**
 * Every table recflow keeps, in an order where a row's references come first, with the columns
 * both engines share (the schema after the last migration) and the key a copy pages by.
 */
export interface TableSpec {
  name: string;
  columns: readonly string[];
  /** Columns of a unique key, in paging order. */
  key: readonly string[];
  /** Tables holding one configuration row: updated in place rather than inserted. */
  singleton?: boolean;
}

export const TABLES: readonly TableSpec[] = [
  { name: 'users', columns: ['id', 'external_id', 'created_at', 'labels', 'updated_at'], key: ['id'] },
  { name: 'items', columns: ['id', 'external_id', 'created_at', 'hidden', 'available_from', 'available_until', 'labels', 'updated_at'], key: ['id'] },
  { name: 'item_categories', columns: ['item_id', 'category'], key: ['item_id', 'category'] },
  { name: 'ratings', columns: ['id', 'user_id', 'item_id', 'value', 'ts', 'updated_at'], key: ['id'] },
  { name: 'events', columns: ['id', 'user_id', 'item_id', 'type', 'value', 'ts', 'event_id', 'created_at'], key: ['id'] },
  { name: 'catalogue_version', columns: ['id', 'version'], key: ['id'], singleton: true },
  { name: 'models', columns: ['id', 'model', 'version', 'path', 'created_at', 'valid_hr10', 'metrics', 'manifest', 'job_id', 'active', 'activated_at'], key: ['id'] },
  { name: 'jobs', columns: ['id', 'model', 'request', 'state', 'progress', 'result', 'error', 'attempts', 'created_at', 'started_at', 'finished_at', 'heartbeat_at', 'requeued', 'history'], key: ['id'] },
  { name: 'api_keys', columns: ['id', 'name', 'hash', 'prefix', 'scopes', 'requests_per_minute', 'bytes_per_minute', 'created_at', 'last_used_at', 'revoked_at'], key: ['id'] },
  { name: 'serving', columns: ['id', 'mode', 'model', 'set_by', 'updated_at'], key: ['id'], singleton: true },
  { name: 'impressions', columns: ['id', 'route', 'user_id', 'model', 'model_version', 'experiment_id', 'variant', 'exploration', 'pool_size', 'reported', 'created_at'], key: ['id'] },
  { name: 'impression_items', columns: ['impression_id', 'position', 'item_id', 'user_id', 'source', 'team', 'propensity', 'novelty', 'seen', 'created_at'], key: ['impression_id', 'position'] },
  { name: 'impression_feedback', columns: ['impression_id', 'position', 'type', 'positive', 'exact', 'at'], key: ['impression_id', 'position', 'type'] },
  { name: 'experiments', columns: ['id', 'name', 'mode', 'status', 'spec', 'verdict', 'winner', 'created_at', 'stopped_at', 'concluded_at'], key: ['id'] },
];

export type TableRow = Record<string, unknown>;
