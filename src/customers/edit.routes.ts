import { createRoute, z } from '@hono/zod-openapi';
import { staff } from '../auth/access.ts';
import type { Deps } from '../deps.ts';
import { clientIp, createRouter } from '../shared/http.ts';
import { id } from '../shared/input.ts';
import { customerRecordSchema } from './customer.ts';
import { newAddressBody, recordEditBody } from './edit.ts';
import { addAddress, editCustomer } from './edit.service.ts';

const record = {
  200: { description: 'The record as it is now', content: { 'application/json': { schema: customerRecordSchema } } },
};

export function editRoutes(deps: Deps) {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'patch',
      path: '/customers/{id}',
      middleware: staff,
      tags: ['customers'],
      summary: 'Edit a record: name, acquisition channel, email, phone, custom attributes, with a reason',
      description: `Only the fields given change; a value equal to the record's writes nothing. Each value changed is kept
(field, before, after, who, why) and shown on the timeline as \`edit\`. A new email or phone becomes an identity of
this customer and the old one stays one, so events naming the old value still find them; a value another customer
holds is refused with 409 naming that customer (merge them instead). Agents may change name, email and phone, not the
acquisition channel or attributes. The same changes arrive by event as \`customer.upsert\` and \`contact.change\`.
Audited as customer.edited (fields and reason).`,
      request: {
        params: z.object({ id }),
        body: { required: true, content: { 'application/json': { schema: recordEditBody } } },
      },
      responses: record,
    }),
    async (c) =>
      c.json(
        await editCustomer(deps, c.req.valid('param').id, c.req.valid('json'), {
          principal: c.get('principal'),
          ip: clientIp(c),
        }),
        200,
      ),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/customers/{id}/addresses',
      middleware: staff,
      tags: ['customers'],
      summary: 'Add a new dated address, with a reason: the current one of its kind is closed and kept in the history',
      description: `The address opens at \`validFrom\` (now when not given; never in the future, never before the current
one of its kind). A new current address clears moved and undeliverable (or asks, KEPT_NEW_ADDRESS_CLEARS). The same
as an \`address.change\` event. Audited as customer.address_added (kind, validFrom, reason).`,
      request: {
        params: z.object({ id }),
        body: { required: true, content: { 'application/json': { schema: newAddressBody } } },
      },
      responses: record,
    }),
    async (c) =>
      c.json(
        await addAddress(deps, c.req.valid('param').id, c.req.valid('json'), {
          principal: c.get('principal'),
          ip: clientIp(c),
        }),
        200,
      ),
  );
  return app;
}
