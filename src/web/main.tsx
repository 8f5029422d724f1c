import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { call, get, onSignedOut, signIn, signOut, storedKey } from './api';
import { useLoad } from './hooks';
import { DEFAULT_LABELS, LabelsContext, labelsFrom } from './labels';
import { Login } from './login';
import { Catalogue } from './pages/catalogue';
import { Data } from './pages/data';
import { Explore } from './pages/explore';
import { Jobs } from './pages/jobs';
import { Models } from './pages/models';
import { Online } from './pages/online';
import { Overview } from './pages/overview';
import { Settings } from './pages/settings';
import { Users } from './pages/users';
import { useRoute } from './route';
import type { EffectiveConfig } from './types';
import './style.css';

const PAGES = [
  { id: 'overview', title: 'Overview', view: Overview },
  { id: 'models', title: 'Models', view: Models },
  { id: 'jobs', title: 'Jobs', view: Jobs },
  { id: 'explore', title: 'Explore', view: Explore },
  { id: 'users', title: 'Users', view: Users },
  { id: 'catalogue', title: 'Catalogue', view: Catalogue },
  { id: 'data', title: 'Import & export', view: Data },
  { id: 'online', title: 'Online', view: Online },
  { id: 'settings', title: 'Settings', view: Settings },
];

function App() {
  const [signedIn, setSignedIn] = useState(storedKey() !== null);
  const [reason, setReason] = useState<string | null>(null);
  const route = useRoute();
  useEffect(
    () =>
      onSignedOut((why) => {
        setReason(why);
        setSignedIn(false);
      }),
    [],
  );
  useEffect(() => {
    // With AUTH=off the API opens every route to everyone: there is no key to ask for.
    if (!signedIn && reason === null) {
      call('GET', '/admin/stats', { key: '', probe: true }).then(
        () => {
          signIn('');
          setSignedIn(true);
        },
        () => undefined,
      );
    }
  }, [signedIn, reason]);
  if (!signedIn) return <Login reason={reason} onSignedIn={() => setSignedIn(true)} />;
  return <SignedIn page={route.page} params={route.params} />;
}

/** The pages, once a key is accepted; items and users are shown by the configured label keys. */
function SignedIn({ page: current, params }: { page: string; params: URLSearchParams }) {
  const config = useLoad(() => get<EffectiveConfig>('/admin/config'), []);
  const labels = config.data ? labelsFrom(config.data) : DEFAULT_LABELS;
  const page = PAGES.find((p) => p.id === current) ?? PAGES[0];
  const View = page.view;
  return (
    <LabelsContext.Provider value={labels}>
      <header>
        <strong>recflow</strong>
        <nav>
          {PAGES.map((p) => (
            <a href={`#/${p.id}`} class={p === page ? 'current' : ''}>
              {p.title}
            </a>
          ))}
        </nav>
        <button class="link" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <main data-page={page.id}>
        <h1>{page.title}</h1>
        <View params={params} />
      </main>
    </LabelsContext.Provider>
  );
}

render(<App />, document.getElementById('app')!);
