import { useState } from 'preact/hooks';
import { call, enc, get, query } from '../api';
import { when } from '../format';
import { useLoad } from '../hooks';
import { Pager } from '../pager';
import { forgetLabels, ItemName } from '../labels';
import { setParams } from '../route';
import type { Item, Stats } from '../types';

const PAGE = 50;

interface Page {
  items: Item[];
  nextCursor: number | null;
}

/** PUT replaces an item's metadata, so hiding sends everything else back unchanged. */
function withHidden(item: Item, hidden: boolean): Record<string, unknown> {
  return { categories: item.categories, hidden, availableFrom: item.availableFrom, availableUntil: item.availableUntil, labels: item.labels };
}

export function Catalogue({ params }: { params: URLSearchParams }) {
  const q = params.get('q') ?? '';
  const category = params.get('category') ?? '';
  const [after, setAfter] = useState<number[]>([0]);
  const [search, setSearch] = useState(q);
  const [message, setMessage] = useState<string | null>(null);
  const stats = useLoad(() => get<Stats>('/admin/stats'), []);
  const cursor = after[after.length - 1];
  const page = useLoad(() => get<Page>(`/items${query({ q, category, after: q ? undefined : cursor, limit: PAGE })}`), [q, category, cursor]);

  const go = (next: { q?: string; category?: string }): void => {
    setAfter([0]);
    setParams('catalogue', next);
  };
  const toggle = async (item: Item): Promise<void> => {
    try {
      await call('PUT', `/items/${enc(item.itemId)}`, { body: withHidden(item, !item.hidden) });
      forgetLabels('items', item.itemId);
      setMessage(`${item.itemId} is now ${item.hidden ? 'visible' : 'hidden'}.`);
    } catch (err) {
      setMessage(`Failed: ${(err as Error).message}`);
    }
    page.reload();
  };

  return (
    <>
      <form
        class="panel inline"
        onSubmit={(e) => {
          e.preventDefault();
          go({ q: search.trim() || undefined });
        }}
      >
        <label class="grow">
          Item id starts with
          <input name="q" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">Search</button>
        {(q || category) && (
          <button type="button" class="link" onClick={() => { setSearch(''); go({}); }}>
            Show all
          </button>
        )}
      </form>
      <section class="panel">
        <h2>Categories</h2>
        <div class="chips" data-testid="categories">
          {(stats.data?.categories ?? []).map((c) => (
            <button class={`chip ${c.category === category ? 'current' : ''}`} onClick={() => go({ category: c.category })}>
              {c.category} <span class="hint">{c.items}</span>
            </button>
          ))}
          {stats.data && stats.data.categories.length === 0 && <span class="hint">No item has a category yet (PUT /items).</span>}
        </div>
        <p class="hint">
          {stats.data ? `${stats.data.counts.items} items, ${stats.data.counts.hiddenItems} hidden.` : ''} {category && `Showing category ${category}.`} {q && `Ids starting with “${q}”.`}
        </p>
      </section>
      {message && <p class="notice">{message}</p>}
      {page.error && <p class="error">{page.error}</p>}
      {page.loaded && page.data?.items.length === 0 && (
        <p class="notice" data-testid="no-items">
          {q ? `No item id starts with “${q}”.` : category ? `No item is in category “${category}”.` : 'The catalogue is empty: PUT /items, or import an items file on the Import & export page. Items that only appear in ratings are listed once they are in the catalogue.'}
        </p>
      )}
      <section class="panel">
        <table data-testid="items">
          <thead>
            <tr>
              <th>item</th><th>categories</th><th>created</th><th>state</th><th></th>
            </tr>
          </thead>
          <tbody>
            {(page.data?.items ?? []).map((item) => (
              <tr data-item={item.itemId} class={item.hidden ? 'hidden-item' : ''}>
                <td><ItemName id={item.itemId} labels={item.labels} /></td>
                <td>{item.categories.join(', ')}</td>
                <td>{when(item.createdAt)}</td>
                <td>{item.hidden ? 'hidden' : 'visible'}</td>
                <td>
                  <button class="small" onClick={() => toggle(item)}>
                    {item.hidden ? 'Unhide' : 'Hide'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <Pager after={after} setAfter={setAfter} nextCursor={page.data?.nextCursor} />
      </section>
    </>
  );
}
