import { useState } from 'preact/hooks';
import { enc, get, getOrNull, query } from '../api';
import { num, when } from '../format';
import { useLoad } from '../hooks';
import { ItemName } from '../labels';
import { RETRAIN_MODELS } from '../model-names';
import { setParams } from '../route';
import type { HistoryEntry, Recommendation, ScoredItem } from '../types';

/** The filters this page passes to the API unchanged, as the page's own query parameters. */
const FILTERS = ['category', 'exclude', 'model', 'limit', 'include_hidden'] as const;

function filtersOf(params: URLSearchParams): Record<string, string | undefined> {
  return Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? undefined]));
}

/** Repeats `category` per value (the API's any-of form). */
function filterQuery(filters: Record<string, string | undefined>, extra: Record<string, string>): string {
  const { category, ...rest } = filters;
  const q = query({ ...rest, ...extra }).replace(/^\?/, '');
  const categories = (category ?? '').split(',').map((c) => c.trim()).filter(Boolean).map((c) => `category=${enc(c)}`);
  const all = [q, ...categories].filter(Boolean).join('&');
  return all ? `?${all}` : '';
}

function Scored({ items, testId }: { items: ScoredItem[]; testId: string }) {
  return (
    <ol class="scored" data-testid={testId}>
      {items.map((i) => (
        <li data-item={i.itemId}>
          <ItemName id={i.itemId} /> <span class="score">{num(i.score, 4)}</span>
          {i.source && <span class="hint" data-source={i.source}> · {i.source}</span>}
          {i.because && i.because.length > 0 && <span class="because">because of {i.because.map((b) => b.itemId).join(', ')}</span>}
        </li>
      ))}
    </ol>
  );
}

function Answer({ answer }: { answer: Recommendation }) {
  return (
    <p class="hint" data-testid="answer-source">
      {answer.model} {answer.modelVersion ?? ''} · {answer.source}
      {answer.method ? ` · ${answer.method}` : ''}
      {answer.ranker ? ` · ranked by ${answer.ranker}` : ''}
      {answer.notes?.map((n) => (
        <span class="because">
          {n.source}: {n.note}
        </span>
      ))}
    </p>
  );
}

/** What to tell someone who asked for a user the service has never heard of. */
export function UnknownUser({ user }: { user: string }) {
  return (
    <p class="notice" data-testid="unknown-user">
      No user named “{user}” yet. A user appears once they rate or act on an item (POST /ratings, POST /events) or are given labels (PUT /users/{user}); check the id, or find users by the start of their id on the Users page.
    </p>
  );
}

export function UserView({ user, filters = {} }: { user: string; filters?: Record<string, string | undefined> }) {
  const history = useLoad(() => getOrNull<{ items: HistoryEntry[] }>(`/users/${enc(user)}/history?limit=50`), [user]);
  const recs = useLoad(() => get<Recommendation>(`/users/${enc(user)}/recommendations${filterQuery(filters, { explain: 'true' })}`), [user, JSON.stringify(filters)]);
  if (history.loaded && history.data === null) return <UnknownUser user={user} />;
  return (
    <section class="panel two">
      <div>
        <h2>History of {user}</h2>
        {history.error && <p class="error">{history.error}</p>}
        {history.data && history.data.items.length === 0 && <p class="hint">No ratings or events yet.</p>}
        <ul class="history" data-testid="history">
          {(history.data?.items ?? []).map((h) => (
            <li>
              <ItemName id={h.itemId} /> {h.kind === 'rating' ? `rated ${num(h.rating, 1)}` : `${h.type} ${h.value ?? ''}`} <span class="hint">{when(h.timestamp)}</span>
            </li>
          ))}
        </ul>
      </div>
      <div>
        <h2>Recommended</h2>
        {recs.error && <p class="error">{recs.error}</p>}
        {recs.data && <Answer answer={recs.data} />}
        {recs.data && <Scored items={recs.data.items} testId="recommendations" />}
      </div>
    </section>
  );
}

function ItemView({ item, filters }: { item: string; filters: Record<string, string | undefined> }) {
  const similar = useLoad(() => get<Recommendation>(`/items/${enc(item)}/similar${filterQuery(filters, {})}`), [item, JSON.stringify(filters)]);
  return (
    <section class="panel">
      <h2>Similar to {item}</h2>
      {similar.error && <p class="error">{similar.error}</p>}
      {similar.data && <Answer answer={similar.data} />}
      {similar.data && <Scored items={similar.data.items} testId="similar" />}
    </section>
  );
}

export function Explore({ params }: { params: URLSearchParams }) {
  const user = params.get('user') ?? '';
  const item = params.get('item') ?? '';
  const filters = filtersOf(params);
  const [form, setForm] = useState<Record<string, string>>(() => ({ user, item, ...Object.fromEntries(Object.entries(filters).map(([k, v]) => [k, v ?? ''])) }));
  const field = (name: string, label: string, placeholder = '') => (
    <label>
      {label}
      <input name={name} value={form[name] ?? ''} placeholder={placeholder} onInput={(e) => setForm({ ...form, [name]: (e.target as HTMLInputElement).value })} />
    </label>
  );
  const submit = (e: Event): void => {
    e.preventDefault();
    setParams('explore', Object.fromEntries(Object.entries(form).map(([k, v]) => [k, v.trim() || undefined])));
  };
  return (
    <>
      <form class="panel inline" onSubmit={submit} data-testid="explore-form">
        {field('user', 'User id')}
        {field('item', 'Item id')}
        {field('category', 'Categories', 'comma-separated')}
        {field('exclude', 'Exclude items', 'comma-separated')}
        <label>
          Model
          <select name="model" value={form.model ?? ''} onChange={(e) => setForm({ ...form, model: (e.target as HTMLSelectElement).value })}>
            <option value="">serving</option>
            {RETRAIN_MODELS.filter((m) => m !== 'auto').map((m) => (
              <option value={m}>{m}</option>
            ))}
          </select>
        </label>
        {field('limit', 'Limit', '10')}
        <label class="check">
          <input type="checkbox" checked={form.include_hidden === 'true'} onChange={(e) => setForm({ ...form, include_hidden: (e.target as HTMLInputElement).checked ? 'true' : '' })} /> hidden items too
        </label>
        <button type="submit">Show</button>
      </form>
      {!user && !item && <p class="hint">Enter a user to see their history beside their recommendations, or an item to see its similar items.</p>}
      {user && <UserView user={user} filters={filters} />}
      {item && <ItemView item={item} filters={filters} />}
    </>
  );
}
