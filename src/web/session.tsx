// Who is signed in, for every page: what their role may call decides which controls they see.
import { createContext, useContext } from 'react';
import type { Me } from '../auth/auth.ts';

export const SessionContext = createContext<Me | null>(null);

/** The signed-in person (inside the signed-in shell). */
export function useMe(): Me {
  const me = useContext(SessionContext);
  if (!me) throw new Error('useMe outside the signed-in shell');
  return me;
}

/**
 * Whether the signed-in person may call a route, e.g. can('POST /api/v1/analytics/runs') or
 * can('POST /api/v1/customers/:id/flags'): a control whose route answers 403 is not shown.
 */
export function useCan(): (route: string) => boolean {
  const may = useContext(SessionContext)?.may ?? [];
  return (route) => may.includes(route);
}
