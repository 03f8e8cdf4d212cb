// Access requests (P15): everything Kept holds about one customer, found the way erasure finds it.
import type { Db } from '../db/connection.ts';
import { AppError } from '../shared/errors.ts';
import { customerData } from './privacy.repository.ts';

/** The customer row and, per table, every row about them; not_found when there is no such customer. */
export async function customerExport(db: Db, customerId: number) {
  const data = await customerData(db, customerId);
  if (!data) throw new AppError('not_found', `No customer ${customerId}`);
  return data;
}
