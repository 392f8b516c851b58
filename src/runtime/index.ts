/**
 * The AgentCore Runtime side (`longrun/runtime`): the runtime server, the invocation handler that
 * builds an agent per invocation, and the streamed event types with their zod schema, so clients
 * parse an invocation's stream without guessing.
 */
export {
  type Caller,
  type CallerResolver,
  createCallerResolver,
  DEFAULT_ACTOR_ID,
} from './caller-identity.ts'
export { errorBody, httpStatusOf, RuntimeError, type RuntimeErrorCode } from './errors.ts'
export {
  type AgentInvocationHandlerConfig,
  createAgentInvocationHandler,
  type InvocationHandler,
  type ResolvedInvocation,
} from './invocation-handler.ts'
export { type InterruptAnswer, type InvocationPayload, SESSION_ID_HEADER } from './invocation-request.ts'
export { PendingWrites, type PendingWritesConfig } from './pending-writes.ts'
export { type DisconnectPolicy, RUNTIME_DEFAULTS } from './runtime-defaults.ts'
export { AgentRuntimeServer, type AgentRuntimeServerConfig } from './runtime-server.ts'
export { memorySessionIdFor } from './session-ids.ts'
export {
  formatSseEvent,
  type InvocationAnswer,
  InterruptSchema,
  InvocationAnswerSchema,
  parseRuntimeStream,
  type RuntimeStreamEvent,
  type RuntimeInterrupt,
  RuntimeStreamEventSchema,
  type RuntimeStreamEventType,
  type StartedTask,
  StartedTaskSchema,
  StreamEventError,
} from './stream-events.ts'
