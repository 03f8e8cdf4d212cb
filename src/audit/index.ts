// The audit log as other domains use it: an entry appended in their own transaction, one for the
// caller of a request, the entries read back.
export { audit, type AuditEntry } from './audit.repository.ts';
export { auditBy, listAudit } from './audit.service.ts';
