/**
 * The wire contract several boundaries share, in one home: AgentCore Memory's id rules and limits,
 * the event a tool outside the agent writes into a session (a task result), the composite MCP
 * session header that names the caller's memory, and how Memory calls are retried. The session
 * manager, the runtime, the MCP client and the MCP server all import it from here. The local
 * AgentCore service does not: it checks requests against the service's published API model, so a
 * wrong rule here cannot hide behind the same rule in the emulator.
 */
export {
  COMPOSITE_SESSION_SEPARATOR,
  type CompositeSessionField,
  CompositeSessionHeaderError,
  type CompositeSessionParts,
  formatCompositeSessionHeader,
  isCompositeSessionHeader,
  MEMORY_HEADER,
  MEMORY_META_KEY,
  parseCompositeSessionHeader,
} from './composite-session-header.ts'
export { type ConversationalPayload, userTextEventPayload } from './external-event.ts'
export {
  parseRuntimeErrorBody,
  RUNTIME_ERROR_HEADERS,
  type RuntimeErrorData,
  runtimeErrorFromHeaders,
  runtimeErrorHeaders,
} from './runtime-error.ts'
export {
  ACTOR_ID_RULE,
  BRANCH_NAME_RULE,
  EVENT_ID_RULE,
  explainIdViolation,
  explainMetadataKeyViolation,
  explainMetadataValueViolation,
  type IdRule,
  MEMORY_ID_RULE,
  METADATA_KEY_MAX_LENGTH,
  METADATA_KEY_PATTERN,
  METADATA_MAX_KEYS,
  METADATA_VALUE_MAX_LENGTH,
  METADATA_VALUE_PATTERN,
  SESSION_ID_RULE,
} from './ids.ts'
export { MEMORY_LIMITS } from './limits.ts'
export {
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  isPermanentError,
  isRetryableError,
  type RetryLog,
  type RetryPolicy,
  withRetry,
} from './retry.ts'
export {
  CONTINUATION_HEADERS,
  CONTINUATION_METADATA_KEY,
  CONTINUATION_PROMPT_PREFIX,
  CONTINUATION_STOPPED,
  CONTINUATION_STOPPED_MARK,
  continuationPrompt,
  continuationTaskOf,
  MAX_CONTINUATION_DEPTH,
  RUNTIME_SESSION_ID,
  stoppedContinuationPrompt,
  TASK_ID_METADATA_KEY,
  type WakePayload,
} from './continuation.ts'
