// What an import can be asked for: the kinds of file, their mapping targets and the text encodings.
// Nothing here imports anything, so the CLI names them in its help without loading the importer.

export const importKinds = [
  'customers',
  'orders',
  'returns',
  'touchpoints',
  'tickets',
  'surveys',
  'subscriptions',
  'products',
  'flags',
] as const;
export type ImportKind = (typeof importKinds)[number];

/** What a file of one kind may map: `required` lists what it must provide (one of a group is enough); `aliases` are other column names a target is found by without --map. */
interface TargetSpec {
  all: string[];
  required: string[][];
  aliases?: Record<string, string[]>;
}

/** Mapping targets per kind. */
export const targets: Record<ImportKind, TargetSpec> = {
  customers: {
    all: [
      'id',
      'email',
      'name',
      'phone',
      'created_at',
      'acquisition_channel',
      'line1',
      'line2',
      'city',
      'region',
      'postal_code',
      'country',
    ],
    required: [['id', 'email', 'phone']],
  },
  orders: {
    all: ['customer', 'order', 'at', 'amount', 'quantity', 'unit_price', 'product', 'category', 'channel', 'currency'],
    required: [['customer'], ['at'], ['amount', 'unit_price']],
  },
  returns: {
    all: ['customer', 'return', 'order', 'at', 'product', 'quantity', 'amount', 'reason_code', 'reason'],
    required: [['customer'], ['at'], ['amount']],
  },
  touchpoints: {
    all: ['customer', 'id', 'at', 'channel', 'direction', 'kind', 'campaign'],
    required: [['customer'], ['at'], ['channel'], ['kind']],
  },
  tickets: {
    all: [
      'customer',
      'ticket',
      'opened_at',
      'channel',
      'category',
      'priority',
      'status',
      'subject',
      'order',
      'resolved_at',
      'outcome',
    ],
    required: [['customer'], ['ticket'], ['opened_at']],
  },
  surveys: {
    all: ['customer', 'id', 'at', 'survey', 'question', 'score', 'answer', 'channel'],
    required: [['customer'], ['at'], ['survey'], ['question']],
  },
  subscriptions: {
    all: [
      'customer',
      'subscription',
      'started_at',
      'plan',
      'price',
      'currency',
      'period',
      'renewed_at',
      'cancelled_at',
      'reason_code',
      'reason',
      'tenure',
      'cancelled',
    ],
    required: [['customer'], ['started_at', 'tenure']],
  },
  products: {
    all: ['id', 'name', 'category', 'price', 'cost', 'currency'],
    required: [['id']],
    aliases: { id: ['sku', 'product_id', 'product'] },
  },
  flags: {
    all: ['customer', 'flag', 'at', 'reason'],
    required: [['customer'], ['flag']],
    aliases: { flag: ['status'] },
  },
};

export const encodings = ['utf-8', 'windows-1252', 'latin1'] as const;
export type Encoding = (typeof encodings)[number];
