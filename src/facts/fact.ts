// The internal facts every door (the event API, CSV files) turns its input into, one type per
// kind. A fact names its customer by reference; what it says is what its writer stores, less the
// customer id (resolved by the pipeline) and the source (the door's, given once per call).
import type {
  AddressInput,
  ConsentInput,
  ContactInput,
  CustomerRef,
  EditNote,
  NoteInput,
  ProfileInput,
  StatusFlagInput,
} from '../customers/index.ts';
import type { DeliveryInput, OrderInput, ReturnInput } from '../orders/index.ts';
import type { TouchpointInput } from '../channels/index.ts';
import type { IncidentInput, TicketInput, TicketUpdateInput } from '../support/index.ts';
import type { SubscriptionInput } from '../subscriptions/index.ts';
import type { SurveyResponseInput } from '../surveys/index.ts';

export type { CustomerRef } from '../customers/index.ts';

/** What a writer takes, without what the pipeline fills in. */
type Said<Input> = Omit<Input, 'customerId' | 'source'>;

/** What each kind of fact says, by kind. */
export interface FactData {
  /**
   * Name, start, acquisition channel, custom attributes and an address: each changes only when given.
   * `edit`: who changes it and why (record_edits); the door's source when not given.
   */
  profile: Omit<Said<ProfileInput>, 'address'> & { address?: AddressInput & { at: Date } };
  /** An address correction on its own; `edit` as for profile. */
  address: AddressInput & { at: Date; edit?: EditNote };
  /**
   * The record's email or phone replaced: the new value becomes an identity of this customer (refused
   * when another customer holds it), the old one stays an identity so references to it still find them.
   */
  contact: Omit<Said<ContactInput>, 'note'> & { edit?: EditNote };
  /** A status flag set or cleared; `origin` says what set it, for the lifecycle's cause (e.g. `event 42`). */
  status: Said<StatusFlagInput> & {
    origin: string;
    /** An admin reversing deceased in the record, with a reason; no other door may clear deceased. */
    adminReversal?: boolean;
  };
  order: Said<OrderInput>;
  return: Said<ReturnInput>;
  /** What the carrier said about an order's delivery: delivered, delayed or failed. */
  delivery: Said<DeliveryInput>;
  ticket: Said<TicketInput>;
  /** A ticket's new status, assignee or note; with an outcome, its resolution. */
  ticketUpdate: Said<TicketUpdateInput>;
  touchpoint: Said<TouchpointInput>;
  incident: Said<IncidentInput>;
  /** A subscription started, renewed or cancelled; the subscription's state follows from all of them. */
  subscription: Said<SubscriptionInput>;
  surveyResponse: Said<SurveyResponseInput>;
  consent: Said<ConsentInput>;
  note: Said<NoteInput>;
}
export type FactKind = keyof FactData;

/** A fact as a door hands it over: its kind, its customer, and `index`, the door's handle for the outcome. */
export type Fact<Kind extends FactKind = FactKind> = {
  [K in Kind]: { kind: K; index: number; ref: CustomerRef; data: FactData[K] };
}[Kind];

/** A fact whose customer is known. */
export type ResolvedFact<Kind extends FactKind = FactKind> = {
  [K in Kind]: { kind: K; index: number; customerId: number; data: FactData[K] };
}[Kind];

/** Why a fact was not stored: the field to fix and what is wrong with it. */
export interface Rejection {
  field: string;
  message: string;
  /** The reference names a person who asked to be erased (nothing of theirs may be kept, not even in a report). */
  erased?: boolean;
  /** The value belongs to this other customer (an email or phone): the two may be one person, to merge. */
  heldBy?: number;
}
