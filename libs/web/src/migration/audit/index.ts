export { AuditLogEntryDto, AuditLogPageDto } from './audit-log-page.dto';
export { AuditLogQueryDto } from './audit-log.query.dto';
export { AuditController } from './audit.controller';
