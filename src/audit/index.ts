// The audit log as other domains use it: an entry appended in their own transaction, or one for the caller of a request.
export { audit, type AuditEntry } from './audit.repository.ts';
export { auditBy } from './audit.service.ts';
