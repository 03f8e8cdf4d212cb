// Plain words for every page: money with the store currency (shares: percent in api.ts)
// and the fold that keeps technical names (model parameters, AUC, p_alive, ...) for analysts.
import { useEffect, useState, type ReactNode } from 'react';
import type { Settings } from '../settings/settings.ts';
import { api } from './api.ts';

/** Technical names and figures, folded away: summary "Details for analysts". */
export function ForAnalysts({ children }: { children: ReactNode }) {
  return (
    <details className="for-analysts">
      <summary>Details for analysts</summary>
      {children}
    </details>
  );
}

/** An amount with its currency ("€1,234.50"); without a known currency, the bare number with two decimals. */
export function money(value: number | string | null | undefined, currency: string | null, digits = 2): string {
  const v = typeof value === 'string' ? Number(value) : value;
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  const options = { minimumFractionDigits: digits, maximumFractionDigits: digits };
  if (!currency) return v.toLocaleString(undefined, options);
  try {
    return v.toLocaleString(undefined, { ...options, style: 'currency', currency });
  } catch {
    return `${v.toLocaleString(undefined, options)} ${currency}`;
  }
}

// The store currency, asked once per page load and shared by every page.
let currencyAnswer: Promise<string | null> | null = null;
const storeCurrency = () => {
  currencyAnswer ??= api<Settings>('/v1/settings').then(
    (s) => s.currency,
    () => {
      currencyAnswer = null;
      return null;
    },
  );
  return currencyAnswer;
};

/** The store currency (null until known, or when no order names one). */
export function useCurrency(): string | null {
  const [currency, setCurrency] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    storeCurrency().then((c) => live && setCurrency(c));
    return () => {
      live = false;
    };
  }, []);
  return currency;
}

/** money() bound to the store currency, for a component. */
export function useMoney(): (value: number | string | null | undefined, digits?: number) => string {
  const currency = useCurrency();
  return (value, digits) => money(value, currency, digits);
}
