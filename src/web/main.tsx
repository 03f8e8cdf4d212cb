import { StrictMode, useEffect, useState, type FormEvent } from 'react';
import { createRoot } from 'react-dom/client';
import { api, ApiError, type User } from './api.ts';
import { AnalyticsPage } from './pages/AnalyticsPage.tsx';
import { ApiPage } from './pages/ApiPage.tsx';
import { CustomerPage } from './pages/CustomerPage.tsx';
import { CustomersPage } from './pages/CustomersPage.tsx';
import { ImportsPage } from './pages/ImportsPage.tsx';
import { CampaignPage, CampaignsPage } from './pages/CampaignsPage.tsx';
import { JourneyPage, JourneysPage } from './pages/JourneysPage.tsx';
import { SegmentsPage } from './pages/SegmentsPage.tsx';
import { SupportPage } from './pages/SupportPage.tsx';
import { TicketPage, TicketsPage } from './pages/TicketsPage.tsx';
import { SurveysPage } from './pages/SurveysPage.tsx';
import { WorklistPage } from './pages/WorklistPage.tsx';
import { Link, usePath } from './router.tsx';
import './styles.css';

function Login({ onSignedIn }: { onSignedIn: (user: User) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const { user } = await api<{ user: User }>('/v1/auth/login', { method: 'POST', json: { email: form.get('email'), password: form.get('password') } });
      onSignedIn(user);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'The server did not answer');
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="login">
      <form onSubmit={submit} className="card">
        <h1>Kept</h1>
        <p className="muted">Sign in to see your customers.</p>
        <label>Email<input name="email" type="email" autoComplete="username" required autoFocus /></label>
        <label>Password<input name="password" type="password" autoComplete="current-password" required /></label>
        {error && <p className="error" role="alert">{error}</p>}
        <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}

function Shell({ user, onSignOut }: { user: User; onSignOut: () => void }) {
  const path = usePath();
  const customer = /^\/customers\/(\d+)$/.exec(path);
  const ticket = /^\/tickets\/(\d+)\/(\d+)$/.exec(path);
  const campaign = /^\/campaigns\/(\d+)$/.exec(path);
  const journey = /^\/journeys\/(\d+)$/.exec(path);
  const page = customer ? <CustomerPage id={Number(customer[1])} />
    : ticket ? <TicketPage customerId={Number(ticket[1])} ticketId={Number(ticket[2])} />
    : campaign ? <CampaignPage id={Number(campaign[1])} />
    : path === '/campaigns' ? <CampaignsPage />
    : journey ? <JourneyPage id={Number(journey[1])} />
    : path === '/journeys' ? <JourneysPage />
    : path === '/tickets' ? <TicketsPage />
    : path === '/analytics' ? <AnalyticsPage />
    : path === '/worklist' ? <WorklistPage />
    : path === '/segments' ? <SegmentsPage />
    : path === '/surveys' ? <SurveysPage />
    : path === '/support' ? <SupportPage />
    : path === '/imports' ? <ImportsPage />
    : path === '/api' ? <ApiPage />
    : <CustomersPage />;
  const section = path.split('/')[1] || 'customers';
  return (
    <>
      <header className="top">
        <Link to="/customers" className="brand">Kept</Link>
        <nav>
          <Link to="/customers" className={section === 'customers' ? 'active' : ''}>Customers</Link>
          <Link to="/worklist" className={section === 'worklist' ? 'active' : ''}>Worklist</Link>
          <Link to="/analytics" className={section === 'analytics' ? 'active' : ''}>Analytics</Link>
          <Link to="/segments" className={section === 'segments' ? 'active' : ''}>Segments</Link>
          <Link to="/campaigns" className={section === 'campaigns' ? 'active' : ''}>Campaigns</Link>
          <Link to="/journeys" className={section === 'journeys' ? 'active' : ''}>Journeys</Link>
          <Link to="/tickets" className={section === 'tickets' ? 'active' : ''}>Tickets</Link>
          <Link to="/support" className={section === 'support' ? 'active' : ''}>Support</Link>
          <Link to="/surveys" className={section === 'surveys' ? 'active' : ''}>Surveys</Link>
          <Link to="/imports" className={section === 'imports' ? 'active' : ''}>Imports</Link>
          <Link to="/api" className={section === 'api' ? 'active' : ''}>API</Link>
        </nav>
        <span className="who">{user.email} · {user.role}</span>
        <button className="link" onClick={onSignOut}>Sign out</button>
      </header>
      <main className="page">{page}</main>
    </>
  );
}

function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  useEffect(() => {
    api<{ user: User }>('/v1/auth/me').then((r) => setUser(r.user), () => setUser(null));
    const signedOut = () => setUser(null);
    window.addEventListener('kept:signed-out', signedOut);
    return () => window.removeEventListener('kept:signed-out', signedOut);
  }, []);
  if (user === undefined) return <p className="muted page">Loading…</p>;
  if (user === null) return <Login onSignedIn={setUser} />;
  const signOut = async () => {
    await api('/v1/auth/logout', { method: 'POST' }).catch(() => undefined);
    setUser(null);
  };
  return <Shell user={user} onSignOut={signOut} />;
}

createRoot(document.getElementById('root')!).render(<StrictMode><App /></StrictMode>);
