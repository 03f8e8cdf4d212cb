// Touchpoints as other domains use them.
export { upsertTouchpoints, type TouchpointInput } from './touchpoint.repository.ts';
