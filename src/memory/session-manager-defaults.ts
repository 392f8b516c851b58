/**
 * Defaults of the session manager, defined once, in a file of their own: src/config.ts and the
 * agent's defaults read them without loading the manager (or Strands).
 */
export const SESSION_MANAGER_DEFAULTS = {
  /** Python's default agent id: its reader looks for this agent's state before it reads any message. */
  agentId: 'default',
  contextTag: 'user_context',
  /** Reads before a model call come at least this far apart: a short turn reads the session once, at the restore. */
  externalSyncMinIntervalMs: 10_000,
  /** Clock-skew allowance of a read before a model call. */
  externalSyncLookbackMs: 10_000,
  /** Strands' sliding window. */
  restoreWindow: 40,
} as const
