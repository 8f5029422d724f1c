import { useState } from 'preact/hooks';
import { ApiError, call, signIn } from './api';

/** Asks for the admin key and checks it against an admin route before keeping it for this tab. */
export function Login({ onSignedIn, reason }: { onSignedIn: () => void; reason: string | null }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(reason);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    try {
      await call('GET', '/admin/stats', { key: key.trim(), probe: true });
      signIn(key.trim());
      onSignedIn();
    } catch (err) {
      const status = err instanceof ApiError ? err.status : 0;
      setError(status === 401 ? 'That key is not valid.' : status === 403 ? 'That key lacks the admin scope.' : `Could not reach recflow: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form onSubmit={submit} data-testid="login">
        <h1>recflow</h1>
        <p>Sign in with an admin key: the admin token (data/admin-token) or a key with the admin scope.</p>
        <label>
          Admin key
          <input type="password" name="key" autocomplete="off" value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} required />
        </label>
        <button type="submit" disabled={busy || key.trim() === ''}>
          Sign in
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <p class="hint">The key stays in this tab's session storage and is sent only as a bearer header.</p>
      </form>
    </main>
  );
}
