/**
 * AgentCore Memory for Strands TypeScript agents: the session manager and the event codec it
 * shares with the MCP server (which writes task results into a user's session).
 */

export {
  type ConverseViolation,
  INTERRUPTED_TOOL_RESULT_TEXT,
  normalizeConverseHistory,
  validateConverseHistory,
} from './converse-history.ts'
export { MemoryConfigError, MemorySessionError, type MemorySessionErrorCode } from './errors.ts'
export {
  AGENT_ID_KEY,
  type AgentStateInput,
  agentStateEvent,
  CONVERSATIONAL_TEXT_LIMIT,
  type DecodedEvent,
  type DecodedState,
  type DecodeProblemHandler,
  decodeMemoryEvent,
  type EncodeMessageOptions,
  type EventPayloadItem,
  encodeMessagePayload,
  type MemoryEventLike,
  pythonIsoTimestamp,
  STATE_TYPE_KEY,
  sessionStateEvent,
} from './event-codec.ts'
export type { EventMetadata, MemoryDataClient, RejectedWrite } from './event-writer.ts'
export { type ConversationalPayload, userTextEventPayload } from '../contract/index.ts'
export {
  ACTOR_ID_RULE,
  explainIdViolation,
  type IdRule,
  MEMORY_ID_RULE,
  SESSION_ID_RULE,
} from '../contract/index.ts'
export { type RetrievalConfig, resolveNamespace, retrieveLongTermContext } from './long-term-context.ts'
export { DEFAULT_RETRY_POLICY, type RetryPolicy, withRetry } from '../contract/index.ts'
export { listSessionEvents } from './session-events.ts'
export { DELIVERED_RESULT, type TimelineAuthor, type TimelineEntry, timelineOf } from './session-timeline.ts'
export { AgentCoreMemorySessionManager } from './session-manager.ts'
export {
  type AgentCoreMemorySessionManagerConfig,
  type ExternalEventSync,
  type MemoryLogger,
} from './session-manager-config.ts'
export { SESSION_MANAGER_DEFAULTS } from './session-manager-defaults.ts'
export { type HistoryHead, isPrompt, windowStart } from './history-window.ts'
export {
  type CachedSession,
  SESSION_CACHE_DEFAULTS,
  SessionCache,
  type SessionCacheConfig,
} from './session-cache.ts'
export type { RestoreReport, RestoreScope } from './session-reader.ts'
