/**
 * The runtime's defaults, defined once: the server uses them when its config leaves a field out,
 * and src/config.ts when a variable is unset.
 */

/** What a caller that goes away mid-turn costs: the turn runs to its end (stored), or it is aborted. */
export type DisconnectPolicy = 'finish' | 'abort'

/** Port and host of the AgentCore container contract, and the limits of one turn. */
export const RUNTIME_DEFAULTS = {
  port: 8080,
  host: '0.0.0.0',
  onDisconnect: 'finish' as DisconnectPolicy,
  /** AgentCore's limit of a synchronous request. */
  turnTimeoutMs: 15 * 60_000,
  shutdownGraceMs: 30_000,
  maxPayloadBytes: 1024 * 1024,
  maxPromptChars: 100_000,
  /** Continuations in a chain (a task started by a continuation that wakes again, and so on). */
  continuationDepthLimit: 3,
  /** Continuations one session may run per hour. */
  wakesPerHour: 20,
} as const
