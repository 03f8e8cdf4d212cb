// The four status flags and what each stops: one table read by every sender, list, worklist,
// gesture and recovery query (through the predicate below and the SQL fragments of flags.repository.ts),
// by the docs and by the UI. A flag is honoured from the moment it is set: senders read it when a message goes out,
// lists when they are exported or marked done, never from a copy taken earlier.

export const statusFlags = ['deceased', 'do_not_contact', 'moved', 'undeliverable'] as const;
export type StatusFlag = (typeof statusFlags)[number];

/**
 * What a flag can stop. `marketing`: campaigns on every channel (email, call lists, store lists,
 * mailing files) and journeys' marketing steps; `transactional`: a message about something the
 * customer did (an order confirmation, a delivery notice, an apology); `survey`: survey invitations,
 * in campaigns or journeys; `gift`: gifts, offers and apologies with a replacement given by an agent;
 * `worklist`: the agent's at-risk worklist; `recovery`: the list of bad experiences nobody followed up.
 */
export const flagUses = ['marketing', 'transactional', 'survey', 'gift', 'worklist', 'recovery'] as const;
export type FlagUse = (typeof flagUses)[number];

export interface FlagMeaning {
  flag: StatusFlag;
  label: string;
  /** What it means and what it stops, in plain words (docs and UI). */
  explanation: string;
  stops: readonly FlagUse[];
  /** Whether a new current address clears it (KEPT_NEW_ADDRESS_CLEARS). */
  clearedByNewAddress: boolean;
  /** Set for good: only an admin clears it, in the record, with a reason. */
  final: boolean;
  /** Puts the customer in the lifecycle stage `suppressed` while set. */
  suppressedStage: boolean;
}

/** The one definition, in order of precedence: the first flag that stops something names the reason. */
export const flagMeanings: readonly FlagMeaning[] = [
  {
    flag: 'deceased',
    label: 'Deceased',
    explanation:
      'The customer has died. Nothing reaches them any more: no marketing, no list, no order or delivery mail, no survey, no gift, no worklist entry, no service recovery call. Final: only an admin reverses it, in the record, with a reason.',
    stops: flagUses,
    clearedByNewAddress: false,
    final: true,
    suppressedStage: true,
  },
  {
    flag: 'do_not_contact',
    label: 'Do not contact',
    explanation:
      'The customer asked not to be contacted. No marketing on any channel, no list, no survey invitation, no gift, no worklist suggestion, no recovery outreach. Mail about an order they placed themselves (the confirmation, a delivery notice) still goes.',
    stops: ['marketing', 'survey', 'gift', 'worklist', 'recovery'],
    clearedByNewAddress: false,
    final: false,
    suppressedStage: true,
  },
  {
    flag: 'moved',
    label: 'Moved',
    explanation:
      'The customer no longer lives at the address on record. No marketing (mail or lists) and no gift by post until a new address arrives, which clears the flag. Order mail still goes; the worklist suggests a call to confirm where they live.',
    stops: ['marketing', 'gift'],
    clearedByNewAddress: true,
    final: false,
    suppressedStage: false,
  },
  {
    flag: 'undeliverable',
    label: 'Undeliverable',
    explanation:
      'Post to the address on record comes back. No marketing (mail or lists) and no gift by post until a new address arrives, which clears the flag. Order mail still goes; the worklist suggests a call.',
    stops: ['marketing', 'gift'],
    clearedByNewAddress: true,
    final: false,
    suppressedStage: false,
  },
];

/** Why an event or a file may not clear deceased. */
export const deceasedFinalMessage = 'deceased is final: an admin clears it in the record, with a reason';

/** The flags that stop `use`, in order of precedence. */
export function flagsStopping(use: FlagUse): StatusFlag[] {
  return flagMeanings.filter((m) => m.stops.includes(use)).map((m) => m.flag);
}

/** The flags that put the customer in the lifecycle stage `suppressed`. */
export const suppressingFlags: readonly StatusFlag[] = flagMeanings.filter((m) => m.suppressedStage).map((m) => m.flag);

/** The flags a new current address clears. */
export const addressFlags: readonly StatusFlag[] = flagMeanings.filter((m) => m.clearedByNewAddress).map((m) => m.flag);

/** The first of a customer's flags that stops `use`, or null. */
export function stoppingFlag(flags: readonly string[], use: FlagUse): StatusFlag | null {
  return flagsStopping(use).find((f) => flags.includes(f)) ?? null;
}

/** Why `use` may not reach a customer with these flags ("flag deceased"), or null. */
export function flagReason(flags: readonly string[], use: FlagUse): string | null {
  const flag = stoppingFlag(flags, use);
  return flag && `flag ${flag.replace(/_/g, ' ')}`;
}

/** How providers' files write each flag (compared without case, spaces, - or _). */
const flagSpellings: Record<StatusFlag, string[]> = {
  deceased: ['deceased', 'dead', 'died', 'death', 'deceased person'],
  do_not_contact: ['do not contact', 'dnc', 'no contact', 'do not contact me'],
  moved: ['moved', 'gone away', 'goneaway', 'moved away', 'relocated', 'no longer at address'],
  undeliverable: ['undeliverable', 'return to sender', 'rts', 'no such address', 'addressee unknown', 'nixie'],
};
const spelled = (text: string) => text.toLowerCase().replace(/[\s_-]+/g, '');

/** The flag a provider's word names ("DECEASED", "gone away", "do not contact"), or null. */
export function flagFromText(text: string): StatusFlag | null {
  const word = spelled(text);
  for (const flag of statusFlags) if (flagSpellings[flag].some((s) => spelled(s) === word)) return flag;
  return null;
}

/** What flagFromText accepts, for an error message. */
export const acceptedFlagWords = `${statusFlags.join(', ')} (also: ${statusFlags
  .flatMap((f) => flagSpellings[f].filter((s) => spelled(s) !== spelled(f)))
  .join(', ')}; any case)`;
