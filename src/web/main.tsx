import { StrictMode, useEffect, useState, type FormEvent } from 'react';
import { createRoot } from 'react-dom/client';
import type { Me, SignedIn } from '../auth/auth.ts';
import { api, ApiError } from './api.ts';
import { AnalyticsPage } from './pages/analytics-page.tsx';
import { AuditPage } from './pages/audit-page.tsx';
import { TeamPage } from './pages/team-page.tsx';
import { ApiPage } from './pages/api-page.tsx';
import { CustomerPage } from './pages/customer-page.tsx';
import { CustomersPage } from './pages/customers-page.tsx';
import { ChannelsPage } from './pages/channels-page.tsx';
import { ImportsPage } from './pages/imports-page.tsx';
import { QualityPage } from './pages/quality-page.tsx';
import { DuplicatesPage } from './pages/duplicates-page.tsx';
import { InsightsPage } from './pages/insights-page.tsx';
import { RulesPage } from './pages/rules-page.tsx';
import { CampaignPage, CampaignsPage } from './pages/campaigns-page.tsx';
import { JourneyPage, JourneysPage } from './pages/journeys-page.tsx';
import { SegmentsPage } from './pages/segments-page.tsx';
import { SupportPage } from './pages/support-page.tsx';
import { TicketPage, TicketsPage } from './pages/tickets-page.tsx';
import { SurveysPage } from './pages/surveys-page.tsx';
import { WorklistPage } from './pages/worklist-page.tsx';
import { Link, navigate, usePath } from './router.tsx';
import './styles.css';
import { SessionContext } from './session.tsx';
import { OverviewPage } from './pages/overview-page.tsx';

function Login({ onSignedIn }: { onSignedIn: (user: Me) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const { user } = await api<SignedIn>('/v1/auth/login', {
        method: 'POST',
        json: { email: form.get('email'), password: form.get('password') },
      });
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
        <label>
          Email
          <input name="email" type="email" autoComplete="username" required autoFocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

// The pages in the navigation, each with the route it reads first: a page is offered to whoever may
// call that route (the server says which routes a role may call), so nobody opens a page that answers 403.
const sections: [key: string, label: string, route: string][] = [
  ['overview', 'Overview', 'GET /api/v1/overview'],
  ['worklist', 'Worklist', 'GET /api/v1/worklist'],
  ['customers', 'Customers', 'GET /api/v1/customers'],
  ['analytics', 'Analytics', 'GET /api/v1/analytics'],
  ['insights', 'Why they leave', 'GET /api/v1/analytics/drivers'],
  ['channels', 'Channels', 'GET /api/v1/channels/economics'],
  ['rules', 'Rules', 'GET /api/v1/rules'],
  ['segments', 'Segments', 'GET /api/v1/segments'],
  ['campaigns', 'Campaigns', 'GET /api/v1/campaigns'],
  ['journeys', 'Journeys', 'GET /api/v1/journeys'],
  ['tickets', 'Tickets', 'GET /api/v1/tickets'],
  ['support', 'Support', 'GET /api/v1/recovery'],
  ['quality', 'Data quality', 'GET /api/v1/quality'],
  ['duplicates', 'Duplicates', 'GET /api/v1/duplicates'],
  ['surveys', 'Surveys', 'GET /api/v1/surveys'],
  ['imports', 'Imports', 'GET /api/v1/imports'],
  ['team', 'Team', 'GET /api/v1/users'],
  ['audit', 'Audit', 'GET /api/v1/audit'],
  ['api', 'API', 'GET /api/openapi.json'],
];

/** Each role's first page: what it opens Kept for (the worklist for agents, the figures for analysts). */
const firstPages: Record<Me['role'], string> = {
  admin: 'overview',
  marketer: 'campaigns',
  agent: 'worklist',
  analyst: 'analytics',
};

function Shell({ user, onSignOut }: { user: Me; onSignOut: () => void }) {
  const path = usePath();
  const customer = /^\/customers\/(\d+)$/.exec(path);
  const ticket = /^\/tickets\/(\d+)\/(\d+)$/.exec(path);
  const campaign = /^\/campaigns\/(\d+)$/.exec(path);
  const journey = /^\/journeys\/(\d+)$/.exec(path);
  const quality = /^\/quality(?:\/([a-z_]+))?$/.exec(path);
  const page =
    path === '/overview' ? (
      <OverviewPage />
    ) : customer ? (
      <CustomerPage id={Number(customer[1])} />
    ) : ticket ? (
      <TicketPage customerId={Number(ticket[1])} ticketId={Number(ticket[2])} />
    ) : campaign ? (
      <CampaignPage id={Number(campaign[1])} />
    ) : path === '/campaigns' ? (
      <CampaignsPage />
    ) : journey ? (
      <JourneyPage id={Number(journey[1])} />
    ) : path === '/journeys' ? (
      <JourneysPage />
    ) : path === '/tickets' ? (
      <TicketsPage />
    ) : path === '/analytics' ? (
      <AnalyticsPage />
    ) : path === '/insights' ? (
      <InsightsPage />
    ) : path === '/channels' ? (
      <ChannelsPage />
    ) : path === '/rules' ? (
      <RulesPage />
    ) : path === '/worklist' ? (
      <WorklistPage />
    ) : path === '/segments' ? (
      <SegmentsPage />
    ) : path === '/surveys' ? (
      <SurveysPage />
    ) : path === '/support' ? (
      <SupportPage />
    ) : path === '/imports' ? (
      <ImportsPage />
    ) : path === '/team' ? (
      <TeamPage />
    ) : path === '/audit' ? (
      <AuditPage />
    ) : path === '/api' ? (
      <ApiPage />
    ) : path === '/customers' ? (
      <CustomersPage />
    ) : quality ? (
      <QualityPage problem={quality[1] ?? null} />
    ) : path === '/duplicates' ? (
      <DuplicatesPage />
    ) : null;
  const open = sections.filter(([, , route]) => user.may.includes(route));
  const first = open.some(([key]) => key === firstPages[user.role]) ? firstPages[user.role] : open[0][0];
  useEffect(() => {
    if (path === '/') navigate(`/${first}`);
  }, [path, first]);
  const section = path.split('/')[1] || first;
  const allowed = open.some(([key]) => key === section);
  const [menuOpen, setMenuOpen] = useState(false);
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to the page
      </a>
      <header className="top" onKeyDown={(e) => e.key === 'Escape' && setMenuOpen(false)}>
        <Link to={`/${first}`} className="brand">
          Kept
        </Link>
        {/* Below tablet width the links fold behind this button (styles.css shows it only there). */}
        <button
          type="button"
          className="menu-button"
          aria-expanded={menuOpen}
          aria-controls="site-nav"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          Menu
        </button>
        <nav id="site-nav" aria-label="Pages" className={menuOpen ? 'open' : ''}>
          {open.map(([key, label]) => (
            <a
              key={key}
              href={`/${key}`}
              className={section === key ? 'active' : ''}
              aria-current={section === key ? 'page' : undefined}
              onClick={(e) => {
                if (e.metaKey || e.ctrlKey || e.shiftKey) return;
                e.preventDefault();
                setMenuOpen(false);
                navigate(`/${key}`);
              }}
            >
              {label}
            </a>
          ))}
          <span className="who">
            {user.email} · {user.role}
          </span>
          <button className="link" onClick={onSignOut}>
            Sign out
          </button>
        </nav>
      </header>
      <main className="page" id="main" tabIndex={-1}>
        {allowed && page ? (
          page
        ) : (
          <p className="muted">
            {sections.some(([key]) => key === section)
              ? `The ${user.role} role does not open this page (docs/security.md says what each role may see).`
              : 'There is no page at this address.'}
          </p>
        )}
      </main>
    </>
  );
}

function App() {
  const [user, setMe] = useState<Me | null | undefined>(undefined);
  useEffect(() => {
    api<{ user: SignedIn['user'] | null }>('/v1/auth/session').then(
      (r) => setMe(r.user),
      () => setMe(null),
    );
    const signedOut = () => setMe(null);
    window.addEventListener('kept:signed-out', signedOut);
    return () => window.removeEventListener('kept:signed-out', signedOut);
  }, []);
  if (user === undefined) return <p className="muted page">Loading…</p>;
  if (user === null) return <Login onSignedIn={setMe} />;
  const signOut = async () => {
    await api('/v1/auth/logout', { method: 'POST' }).catch(() => undefined);
    setMe(null);
  };
  return (
    <SessionContext.Provider value={user}>
      <Shell user={user} onSignOut={signOut} />
    </SessionContext.Provider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
