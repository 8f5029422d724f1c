import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { enc, getOrNull } from './api';
import type { EffectiveConfig, Item, UserRecord } from './types';

/** The label keys items and users are shown by (DASHBOARD_*_LABEL), read once from /admin/config. */
export interface DisplayLabels {
  itemTitle: string;
  itemImage: string;
  userTitle: string;
  userImage: string;
}
export const DEFAULT_LABELS: DisplayLabels = { itemTitle: 'title', itemImage: 'image', userTitle: 'name', userImage: 'avatar' };
export const LabelsContext = createContext<DisplayLabels>(DEFAULT_LABELS);

export function labelsFrom(config: EffectiveConfig | null): DisplayLabels {
  const d = config?.settings.dashboard;
  const pick = (key: string, fallback: string): string => (typeof d?.[key]?.value === 'string' ? (d[key].value as string) : fallback);
  return { itemTitle: pick('itemTitleLabel', 'title'), itemImage: pick('itemImageLabel', 'image'), userTitle: pick('userTitleLabel', 'name'), userImage: pick('userImageLabel', 'avatar') };
}

/**
 * Labels fetched once per id and page load, the oldest dropped past 2,000 ids: a list of ten
 * recommendations costs ten small reads the first time, none after.
 */
const MAX_CACHED = 2000;
const cache = new Map<string, Promise<Record<string, unknown> | null>>();
function labelsOf(kind: 'items' | 'users', id: string): Promise<Record<string, unknown> | null> {
  const key = `${kind}:${id}`;
  let found = cache.get(key);
  if (!found) {
    found = getOrNull<Item | UserRecord>(`/${kind}/${enc(id)}`).then((r) => r?.labels ?? null, () => null);
    cache.set(key, found);
    if (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value!);
  }
  return found;
}
/** Forgets what was read of one id (after the page changed it). */
export const forgetLabels = (kind: 'items' | 'users', id: string): void => void cache.delete(`${kind}:${id}`);

/** Only URLs the page's content security policy lets it load, and never script. */
const imageUrl = (v: unknown): string | null => (typeof v === 'string' && /^(https:\/\/|data:image\/)/.test(v) ? v : null);

function Named({ kind, id, href, labels }: { kind: 'items' | 'users'; id: string; href: string; labels?: Record<string, unknown> | null }) {
  const keys = useContext(LabelsContext);
  const [fetched, setFetched] = useState<Record<string, unknown> | null | undefined>(labels);
  useEffect(() => {
    if (labels !== undefined) return setFetched(labels);
    let live = true;
    void labelsOf(kind, id).then((l) => live && setFetched(l));
    return () => void (live = false);
  }, [kind, id, labels]);
  const title = fetched?.[kind === 'items' ? keys.itemTitle : keys.userTitle];
  const image = imageUrl(fetched?.[kind === 'items' ? keys.itemImage : keys.userImage]);
  return (
    <span class="named" data-named={id}>
      {image && <img class="thumb" src={image} alt="" loading="lazy" />}
      {title !== undefined && title !== null && title !== '' ? (
        <>
          <span class="title">{String(title)}</span> <a class="id" href={href} title={`${kind === 'items' ? 'item' : 'user'} id`}>{id}</a>
        </>
      ) : (
        <a href={href}>{id}</a>
      )}
    </span>
  );
}

/** An item by its title and image labels, its id one click away (the item's page). */
export const ItemName = ({ id, labels }: { id: string; labels?: Record<string, unknown> | null }) => <Named kind="items" id={id} href={`#/explore?item=${enc(id)}`} labels={labels} />;
/** A user by their name and avatar labels, the id linking to their page. */
export const UserName = ({ id, labels }: { id: string; labels?: Record<string, unknown> | null }) => <Named kind="users" id={id} href={`#/users?user=${enc(id)}`} labels={labels} />;
