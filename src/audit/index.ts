export { audit } from './audit.repository.ts';
