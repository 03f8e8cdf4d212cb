// Touchpoints as other domains use them: the one writer of contacts in every channel.
export { upsertTouchpoints, type TouchpointInput } from './touchpoint.repository.ts';
