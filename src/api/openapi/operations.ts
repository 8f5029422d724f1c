/**
 * What each operation is, for people and for generators: one entry per route, keyed by
 * "METHOD /path" as the document spells it. `id` becomes the operationId (the method name in the
 * clients), `tag` the resource it belongs to, `ok` the description of its success answer.
 * test/api/openapi-contract.test.ts fails when a served route has no entry here.
 */
export type Tag = 'ingest' | 'recommendations' | 'catalogue' | 'users' | 'admin' | 'keys' | 'stats' | 'bulk';

export interface OperationDoc {
  id: string;
  tag: Tag;
  summary: string;
  description: string;
  ok: string;
}

export const TAGS: Record<Tag, string> = {
  ingest: 'Ratings, events and impressions: what users did, sent as it happens.',
  recommendations: 'Ranked lists for a user, a session or an item, and the non-personal lists (popular, latest, leaderboards).',
  catalogue: 'Items: categories, availability windows, labels and visibility, read back one by one or by page.',
  users: "Users' labels, history and erasure.",
  admin: 'Training, jobs, model versions, serving, experiments, configuration and health.',
  keys: 'API keys: create, list and revoke keys with scopes and per-key limits.',
  stats: 'Counts, ingest and serving series, pipeline slot shares and online metrics.',
  bulk: 'NDJSON import and export of users, items, ratings and events.',
};

const op = (id: string, tag: Tag, summary: string, description: string, ok: string): OperationDoc => ({ id, tag, summary, description, ok });

export const OPERATIONS: Record<string, OperationDoc> = {
  'GET /healthz': op('health', 'admin', 'Liveness', 'Answers while the process runs; it reads nothing. Use it as the container liveness probe.', 'The process is up'),
  'GET /readyz': op('ready', 'admin', 'Readiness', 'Checks the database, the job queue and storage; 503 lists what is wrong. Use it as the readiness probe: send traffic only while it answers 200.', 'Every dependency answers'),
  'POST /ratings': op('addRatings', 'ingest', 'Record explicit ratings', 'One rating or a batch (`ratings`, at most MAX_BATCH_SIZE). A rating replaces the same user\'s earlier rating of the item. The batch is stored in one transaction: all of it or none.', 'How many ratings were inserted, updated or ignored as duplicates'),
  'POST /events': op('addEvents', 'ingest', 'Record implicit events', 'Clicks, views, likes, carts, purchases and dislikes, one or a batch (`events`). An `eventId` makes a retry idempotent; so does a `timestamp` (the event gets an id derived from its content). Send the `recommendationId` of the answer that showed the item to attribute the event to it.', 'How many events were inserted or ignored as already stored'),
  'GET /users/{id}/history': op('getUserHistory', 'users', "A user's ratings and events", 'Newest first, one page at a time: pass `nextCursor` back as `cursor` for the next page.', 'One page of the history'),
  'GET /users/{id}/recommendations': op('getRecommendations', 'recommendations', 'Recommend items for a user', "The pipeline's ranked list for this user: its sources blended by the ranker, then the rules. Items the user has seen are left out unless `exclude_seen=false`. A user the model does not know gets the fallback.", 'The ranked items and where they came from'),
  'GET /items/{id}/similar': op('getSimilarItems', 'recommendations', 'Items like this one', "The model's nearest items by item vector, or one item-to-item source by name.", 'The nearest items, most similar first'),
  'POST /recommendations': op('recommendForSession', 'recommendations', 'Recommend for a session', 'For a visitor without an account: send the items they interacted with (and ratings, optionally); the model folds them in without storing anything.', 'The ranked items for the session'),
  'GET /popular': op('getPopular', 'recommendations', 'Most popular items', 'The precomputed popularity leaderboard, filtered by category and visibility at request time.', 'The leaderboard and when it was computed'),
  'GET /leaderboards/{name}': op('getLeaderboard', 'recommendations', 'A named leaderboard', 'A leaderboard declared in the configuration (for example trending this week), refreshed by the worker.', 'The leaderboard and when it was computed'),
  'GET /latest': op('getLatest', 'recommendations', 'Newest items', 'Items in the order they entered the catalogue, newest first.', 'The newest items'),
  'GET /users/{id}/similar': op('getSimilarUsers', 'recommendations', 'Users like this one', '"People like you": the nearest users by user vector in the active model.', 'The nearest users, most similar first'),
  'PUT /items/{id}': op('putItem', 'catalogue', 'Create or replace an item', 'Categories, availability window, labels and visibility. Serving sees the change at once; a new item with labels can be recommended before any training.', 'The item as stored'),
  'GET /items/{id}': op('getItem', 'catalogue', 'Read an item', 'The catalogue entry of one item.', 'The item as stored'),
  'DELETE /items/{id}': op('hideItem', 'catalogue', 'Hide an item', 'Marks the item hidden: it is no longer recommended. Its catalogue entry, ratings and events stay; PUT it with `hidden: false` to show it again.', 'The item as hidden'),
  'PUT /items': op('putItems', 'catalogue', 'Create or replace items in a batch', 'A batch of items (at most MAX_BATCH_SIZE) in one transaction.', 'How many items were inserted or updated'),
  'GET /items': op('listItems', 'catalogue', 'List items', 'Every item by page in id order (`after` a cursor), or the items whose id starts with `q`, or the items of one `category`.', 'One page of items'),
  'PUT /users/{id}': op('putUser', 'users', "Set a user's labels", 'Labels describe a user (plan, country, …); content sources and the ranker use them, so a new user gets recommendations before any history.', 'The user as stored'),
  'DELETE /users/{id}': op('eraseUser', 'users', 'Erase a user', "Deletes the user's labels, ratings and events for good (a right-to-erasure request).", 'How many ratings and events were erased'),
  'GET /users/{id}': op('getUser', 'users', 'Read a user', "A user's labels and when they were last set.", 'The user as stored'),
  'POST /admin/keys': op('createKey', 'keys', 'Create an API key', 'The secret is in this answer only: store it now. Scopes are `read`, `write` and `admin`.', 'The key, with its secret'),
  'GET /admin/keys': op('listKeys', 'keys', 'List API keys', 'Every key with its scopes, limits and last use; revoked keys with `include_revoked=true`. Secrets are never shown.', 'The keys'),
  'DELETE /admin/keys/{id}': op('revokeKey', 'keys', 'Revoke an API key', 'The key stops working on every replica at once.', 'The key as revoked'),
  'GET /admin/export/{kind}': op('exportRows', 'bulk', 'Export as NDJSON', 'Streams every row of one kind, oldest first, one JSON object per line. Each line carries its `cursor`: pass the last one as `after` to resume.', 'The rows as NDJSON'),
  'POST /admin/import/{kind}': op('importRows', 'bulk', 'Import NDJSON', 'Reads the body line by line as it arrives, writing in transactions of 1,000 lines. A bad line stops the import with 400 naming its line number; the lines before it stay written, so fix the line and import the whole file again: ratings replace, events are stored once.', 'How many lines were read and written'),
  'DELETE /users/{id}/ratings/{itemId}': op('deleteRating', 'ingest', 'Delete a rating', "Removes one user's rating of one item.", 'Deleted'),
  'DELETE /events/{eventId}': op('deleteEvent', 'ingest', 'Delete an event', 'Removes one event by the id it was stored under.', 'Deleted'),
  'GET /users': op('listUsers', 'users', 'List users', 'Everyone who rated, acted or was given labels, by page (`after` a cursor), or the users whose id starts with `q`.', 'One page of users'),
  'GET /admin/serving': op('getServing', 'admin', 'Which model serves', 'The serving choice: `auto` (the promotion rule picks on validation) or `pinned` to one version, and what this process has loaded.', 'The serving choice'),
  'POST /admin/serving': op('setServing', 'admin', 'Choose the serving model', 'Pin one model version (a rollback is a pin to the older version), or go back to `auto`.', 'The serving choice as set'),
  'GET /admin/stats': op('getStats', 'stats', 'Counts', 'Users, items, ratings, events and hidden items, and items per category, as last refreshed by the worker.', 'The counts'),
  'GET /admin/stats/ingest': op('getIngestStats', 'stats', 'Ingest over time', 'Ratings and events received per hour or per day.', 'The series'),
  'GET /admin/stats/serving': op('getServingStats', 'stats', 'Serving over time', "This process's requests, answers by method and latency percentiles per sample.", 'The series'),
  'GET /admin/config': op('getConfig', 'admin', 'The configuration in effect', 'Every setting and where it came from (default, file or environment); secrets are masked.', 'The effective configuration'),
  'GET /admin/stats/pipeline': op('getPipelineStats', 'stats', "Each source's share of served slots", 'How often each source of the pipeline filled a slot that was served, since this process started.', 'The shares'),
  'POST /impressions': op('reportImpressions', 'ingest', 'Report what was rendered', 'Which items of an answer the client actually showed (by `recommendationId`), so CTR counts only seen slots.', 'Accepted for the impression log'),
  'GET /stats/online': op('getOnlineStats', 'stats', 'Online metrics', 'CTR@k, conversions, coverage and novelty per group (route, source, experiment, variant, model version) and per day.', 'The online figures'),
  'GET /admin/experiments': op('listExperiments', 'admin', 'List experiments', 'Every experiment, newest first, with its latest report.', 'The experiments'),
  'POST /admin/experiments': op('createExperiment', 'admin', 'Start an experiment', 'An A/B test (users split by a salted hash) or an interleaving experiment between two variants.', 'The experiment as started'),
  'GET /admin/experiments/{id}': op('getExperiment', 'admin', 'Read an experiment', 'One experiment and its report: per-variant CTR with intervals, the test and the decision.', 'The experiment'),
  'POST /admin/experiments/{id}/stop': op('stopExperiment', 'admin', 'Stop an experiment', 'Stops splitting traffic; the report stays readable.', 'The experiment as stopped'),
  'POST /admin/experiments/{id}/conclude': op('concludeExperiment', 'admin', 'Conclude an experiment', 'Records the outcome, stopping the experiment first if it runs.', 'The experiment with its verdict'),
  'POST /admin/experiments/{id}/promote': op('promoteVariant', 'admin', 'Promote a variant', "Pins the serving choice to the variant's model version.", 'The experiment'),
  'GET /admin/offpolicy': op('estimateOffPolicy', 'admin', 'Estimate a model offline from exploration', "Inverse-propensity estimate of a model's CTR from the slots logged by exploration, before it serves anyone.", 'The estimate and its assumptions'),
  'POST /admin/retrain': op('retrain', 'admin', 'Train a model', 'Queues a training job; a request equal to one already queued or running returns that job. `model: auto` tries several models within a budget and keeps the best on validation.', 'The job'),
  'GET /admin/jobs': op('listJobs', 'admin', 'List training jobs', 'Newest first, optionally in one state.', 'The jobs'),
  'GET /admin/jobs/{id}': op('getJob', 'admin', 'Read a training job', 'Its state, phase, progress, epoch history and result.', 'The job'),
  'DELETE /admin/jobs/{id}': op('cancelJob', 'admin', 'Cancel a training job', 'Cancels a queued or running job; a finished one answers 409.', 'The job as cancelled'),
  'GET /admin/models': op('listModels', 'admin', 'List model versions', 'Every trained version with its validation metrics, hyperparameters and whether it serves.', 'The versions'),
  'POST /admin/models/{model}/{version}/activate': op('activateModel', 'admin', 'Activate a model version', "Makes this version its model's active one; whether it serves follows the serving choice.", 'The version as activated'),
};
