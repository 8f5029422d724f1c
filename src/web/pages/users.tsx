import { useState } from 'preact/hooks';
import { enc, get, getOrNull, query } from '../api';
import { when } from '../format';
import { useLoad } from '../hooks';
import { Pager } from '../pager';
import { UserName } from '../labels';
import { setParams } from '../route';
import type { UserRecord } from '../types';
import { UnknownUser, UserView } from './explore';

const PAGE = 50;

interface Page {
  users: (UserRecord & { createdAt: string })[];
  nextCursor: number | null;
}

const labelText = (labels: Record<string, unknown>): string =>
  Object.entries(labels)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`)
    .join(' · ');

function UserDetail({ user }: { user: string }) {
  const record = useLoad(() => getOrNull<UserRecord>(`/users/${enc(user)}`), [user]);
  if (record.loaded && record.data === null) return <UnknownUser user={user} />;
  return (
    <>
      <section class="panel" data-testid="user-detail">
        <h2>
          <UserName id={user} labels={record.data?.labels ?? null} />
        </h2>
        {record.error && <p class="error">{record.error}</p>}
        {record.data && (
          <dl class="labels" data-testid="user-labels">
            {Object.keys(record.data.labels).length === 0 && <dd class="hint">No labels (PUT /users/{user} with {'{"labels": {…}}'} to describe this user).</dd>}
            {Object.entries(record.data.labels).map(([k, v]) => (
              <>
                <dt>{k}</dt>
                <dd>{Array.isArray(v) ? v.join(', ') : String(v)}</dd>
              </>
            ))}
          </dl>
        )}
        {record.data?.updatedAt && <p class="hint">Labels last set {when(record.data.updatedAt)}.</p>}
      </section>
      {record.data && <UserView user={user} />}
    </>
  );
}

/** Users by the start of their id, each one click from their labels, history and recommendations. */
export function Users({ params }: { params: URLSearchParams }) {
  const q = params.get('q') ?? '';
  const user = params.get('user') ?? '';
  const [search, setSearch] = useState(q);
  const [after, setAfter] = useState<number[]>([0]);
  const cursor = after[after.length - 1];
  const page = useLoad(() => get<Page>(`/users${query({ q, after: q ? undefined : cursor, limit: PAGE })}`), [q, cursor]);
  const users = page.data?.users ?? [];
  return (
    <>
      <form
        class="panel inline"
        data-testid="users-form"
        onSubmit={(e) => {
          e.preventDefault();
          setAfter([0]);
          setParams('users', { q: search.trim() || undefined });
        }}
      >
        <label class="grow">
          User id starts with
          <input name="q" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">Search</button>
      </form>
      {user && <UserDetail user={user} />}
      {page.error && <p class="error">{page.error}</p>}
      <section class="panel">
        {page.loaded && users.length === 0 && (
          <p class="notice" data-testid="no-users">
            {q ? `No user id starts with “${q}”. Ids are matched from their first character, case included.` : 'No users yet: they appear with their first rating or event (POST /ratings, POST /events, or an import on the Import & export page).'}
          </p>
        )}
        {users.length > 0 && (
          <table data-testid="users">
            <thead>
              <tr>
                <th>user</th><th>labels</th><th>first seen</th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr data-user={u.userId}>
                  <td><UserName id={u.userId} labels={u.labels} /></td>
                  <td class="hint">{labelText(u.labels)}</td>
                  <td>{when(u.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Pager after={after} setAfter={setAfter} nextCursor={page.data?.nextCursor} />
      </section>
    </>
  );
}
