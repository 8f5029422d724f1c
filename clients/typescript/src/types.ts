import type { operations } from './schema.js';

/** Every operation of the API, by the operationId openapi.yaml gives it. */
export type OperationId = keyof operations;

type Flag = '0' | '1' | 'true' | 'false';
/** Query flags are sent as `true`/`false`; the client takes booleans for them. */
type Loose<T> = { [K in keyof T]: Exclude<T[K], undefined> extends Flag ? boolean | Flag : T[K] };

type Parameters<O extends OperationId> = operations[O]['parameters'];
export type Query<O extends OperationId> = Parameters<O> extends { query?: infer Q } ? Loose<NonNullable<Q>> : never;
export type Body<O extends OperationId> = operations[O] extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;

type Success<R> = R extends { 200: { content: { 'application/json': infer A } } }
  ? A
  : R extends { 201: { content: { 'application/json': infer A } } }
    ? A
    : R extends { 202: { content: { 'application/json': infer A } } }
      ? A
      : undefined;
/** The JSON of an operation's success answer. */
export type Answer<O extends OperationId> = Success<operations[O]['responses']>;

export type Rating = Extract<Body<'addRatings'>, { userId: unknown }>;
export type RatingEvent = Extract<Body<'addEvents'>, { userId: unknown }>;
export type ItemInput = Body<'putItem'>;
export type ItemBatchEntry = Extract<Body<'putItems'>, { items: unknown }>['items'][number];
export type WriteCounts = Answer<'addRatings'>;
export type Recommendations = Answer<'getRecommendations'>;
export type SimilarItems = Answer<'getSimilarItems'>;
export type SessionRecommendations = Answer<'recommendForSession'>;
export type Leaderboard = Answer<'getPopular'>;
export type Item = Answer<'getItem'>;
export type User = Answer<'getUser'>;
export type HistoryEntry = Answer<'getUserHistory'>['items'][number];
export type ListedItem = Answer<'listItems'>['items'][number];
export type ListedUser = Answer<'listUsers'>['users'][number];
export type Job = Answer<'getJob'>;
export type RetrainRequest = Body<'retrain'>;
export type BulkKind = 'users' | 'items' | 'ratings' | 'events';
export type ImportResult = Answer<'importRows'>;
/** Any answer that carries a recommendationId, for feedback and impressions. */
export interface Shown {
  recommendationId: string;
  items: readonly { itemId: string }[];
}
