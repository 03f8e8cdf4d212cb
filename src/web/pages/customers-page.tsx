import { useEffect, useState } from 'react';
import type { CustomerFacets, CustomerPage, CustomerSort } from '../../customers/customer.ts';
import { api, formatDate, words } from '../api.ts';
import { BarChart, stageColors } from '../charts.tsx';
import { Link, navigate } from '../router.tsx';

const pageSize = 50;
const stageOrder = ['prospect', 'trial', 'customer', 'best', 'at_risk', 'lapsed', 'won_back', 'suppressed'];

/** Filters live in the address bar, so a filtered list can be bookmarked and shared. */
function readFilters() {
  const p = new URLSearchParams(window.location.search);
  return {
    q: p.get('q') ?? '',
    stage: p.get('stage') ?? '',
    channel: p.get('channel') ?? '',
    flag: p.get('flag') ?? '',
    sort: (p.get('sort') ?? 'last_order') as CustomerSort,
    direction: (p.get('direction') ?? 'desc') as 'asc' | 'desc',
    page: Number(p.get('page') ?? 1),
  };
}

export function CustomersPage() {
  const [filters, setFilters] = useState(readFilters);
  const [search, setSearch] = useState(filters.q);
  const [facets, setFacets] = useState<CustomerFacets | null>(null);
  const [page, setPage] = useState<CustomerPage | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api<CustomerFacets>('/v1/customers/facets').then(setFacets, (e) => setError(e.message));
  }, []);
  useEffect(() => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(filters))
      if (value !== '' && !(key === 'page' && value === 1)) params.set(key, String(value));
    window.history.replaceState(null, '', `/customers${params.size ? `?${params}` : ''}`);
    params.set('pageSize', String(pageSize));
    let current = true;
    api<CustomerPage>(`/v1/customers?${params}`).then(
      (p) => {
        if (current) {
          setPage(p);
          setError(null);
        }
      },
      (e) => current && setError(e.message),
    );
    return () => {
      current = false;
    };
  }, [filters]);
  // Search as you type, a moment after the last key.
  useEffect(() => {
    const timer = setTimeout(() => setFilters((f) => (f.q === search ? f : { ...f, q: search, page: 1 })), 250);
    return () => clearTimeout(timer);
  }, [search]);

  const set = (change: Partial<typeof filters>) => setFilters((f) => ({ ...f, page: 1, ...change }));
  const sortBy = (sort: CustomerSort) =>
    set({ sort, direction: filters.sort === sort && filters.direction === 'desc' ? 'asc' : 'desc' });
  const arrow = (sort: CustomerSort) => (filters.sort === sort ? (filters.direction === 'desc' ? ' ↓' : ' ↑') : '');
  const pages = page ? Math.max(1, Math.ceil(page.total / pageSize)) : 1;
  const total = facets?.stages.reduce((sum, s) => sum + s.customers, 0) ?? 0;

  return (
    <div className="customers">
      <aside>
        {facets && (
          <BarChart
            xAxis="Customers"
            yAxis="Stage"
            title={`${total.toLocaleString()} customers by stage`}
            bars={[...facets.stages]
              .sort((a, b) => stageOrder.indexOf(a.stage) - stageOrder.indexOf(b.stage))
              .map((s) => ({
                label: words(s.stage),
                value: s.customers,
                color: stageColors[s.stage],
                active: filters.stage === s.stage,
                onClick: () => set({ stage: filters.stage === s.stage ? '' : s.stage }),
              }))}
          />
        )}
        <p className="muted small">Click a bar to filter by stage.</p>
      </aside>
      <section>
        <div className="filters">
          <input
            type="search"
            placeholder="Search name, email or customer id"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            aria-label="Search"
          />
          <select value={filters.stage} onChange={(e) => set({ stage: e.target.value })} aria-label="Stage">
            <option value="">Any stage</option>
            {facets?.stages.map((s) => (
              <option key={s.stage} value={s.stage}>
                {words(s.stage)}
              </option>
            ))}
          </select>
          <select value={filters.channel} onChange={(e) => set({ channel: e.target.value })} aria-label="Channel">
            <option value="">Any channel</option>
            {facets?.channels.map((c) => (
              <option key={c} value={c}>
                {words(c)}
              </option>
            ))}
          </select>
          <select value={filters.flag} onChange={(e) => set({ flag: e.target.value })} aria-label="Flag">
            <option value="">Any flags</option>
            {facets?.flags.map((f) => (
              <option key={f} value={f}>
                {words(f)}
              </option>
            ))}
          </select>
        </div>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        {page && (
          <>
            <p className="muted">
              {page.totalCapped ? `More than ${page.total.toLocaleString()}` : page.total.toLocaleString()} customers
            </p>
            <table className="list">
              <thead>
                <tr>
                  <th>
                    <button className="link" onClick={() => sortBy('name')}>
                      Name{arrow('name')}
                    </button>
                  </th>
                  <th>Email</th>
                  <th>Stage</th>
                  <th>Channel</th>
                  <th className="num">
                    <button className="link" onClick={() => sortBy('purchase_days')}>
                      Purchase days{arrow('purchase_days')}
                    </button>
                  </th>
                  <th>
                    <button className="link" onClick={() => sortBy('last_order')}>
                      Last order{arrow('last_order')}
                    </button>
                  </th>
                  <th>
                    <button className="link" onClick={() => sortBy('created')}>
                      Customer since{arrow('created')}
                    </button>
                  </th>
                </tr>
              </thead>
              <tbody>
                {page.customers.map((c) => (
                  <tr key={c.id} onClick={() => navigate(`/customers/${c.id}`)} className="clickable">
                    <td>
                      <Link to={`/customers/${c.id}`}>{c.name ?? c.externalId ?? c.email ?? `#${c.id}`}</Link>
                      {c.flags.map((f) => (
                        <span key={f} className="flag">
                          {words(f)}
                        </span>
                      ))}
                    </td>
                    <td>{c.email ?? '—'}</td>
                    <td>
                      <span className="stage" style={{ background: stageColors[c.stage] }}>
                        {words(c.stage)}
                      </span>
                    </td>
                    <td>{c.acquisitionChannel ? words(c.acquisitionChannel) : '—'}</td>
                    <td className="num">{c.purchaseDays}</td>
                    <td>{formatDate(c.lastOrderAt)}</td>
                    <td>{formatDate(c.createdAt)}</td>
                  </tr>
                ))}
                {page.customers.length === 0 && (
                  <tr>
                    <td colSpan={7} className="muted">
                      No customers match.
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
            <div className="pager">
              <button disabled={filters.page <= 1} onClick={() => setFilters((f) => ({ ...f, page: f.page - 1 }))}>
                ← Previous
              </button>
              <span>
                Page {filters.page} of {page.totalCapped ? `${pages}+` : pages}
              </span>
              <button
                disabled={page.customers.length < pageSize}
                onClick={() => setFilters((f) => ({ ...f, page: f.page + 1 }))}
              >
                Next →
              </button>
            </div>
          </>
        )}
      </section>
    </div>
  );
}
