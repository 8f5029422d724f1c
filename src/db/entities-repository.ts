export type EntityKind = 'users' | 'items';

/**
 * Maps external string ids to dense internal integer ids, creating rows on first sight.
 * Call inside the caller's transaction so a rejected batch creates no ids either.
 */
export interface EntitiesRepository {
  resolve(kind: EntityKind, externalId: string, now: number): number;
  find(kind: EntityKind, externalId: string): number | undefined;
  count(kind: EntityKind): number;
}
