/** Name of the lock file inside an embedded database's data directory. */
export const EMBEDDED_LOCK_FILE = '.ai-infrastructure.lock';
