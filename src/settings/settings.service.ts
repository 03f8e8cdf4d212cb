import type { Deps } from '../deps.ts';
import { storeCurrency } from './settings.repository.ts';
import type { Settings } from './settings.ts';

export async function storeSettings(deps: Deps): Promise<Settings> {
  return { currency: await storeCurrency(deps.db) };
}
