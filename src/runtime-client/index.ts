/**
 * A client's side of InvokeAgentRuntime, shared by the CLI and the developer console: the request
 * (`{prompt, actor_id?, memory_id?}` and the session id), signed with SigV4 through the AWS SDK or
 * with a bearer token over HTTPS, the answer opened as it arrives, and a refusal read as data (the
 * runtime's code and message, which the local gateway hands over in headers of its own).
 *
 * The SigV4 side (`sigv4-invoker.ts`) is not exported here: it loads the AWS SDK, which a command
 * that signs with a bearer token (or only prints its help) must not pay for. Import it by its name.
 */
export {
  type BearerInvokerConfig,
  type BearerToken,
  agentCoreEndpointOf,
  BearerInvoker,
  InvocationRefusedError,
} from './bearer-invoker.ts'
export { InsecureEndpointError, UnexpectedAnswerError } from './errors.ts'
export { BEARER_TOKEN_REFUSED, invokeFailureOf, type Signing } from './invoke-failure.ts'
export {
  type InterruptResponse,
  type InvokeFailure,
  invocationPayload,
  type OpenedInvocation,
  readAnswer,
  type RuntimeInvocation,
  type RuntimeInvoker,
} from './runtime-invoker.ts'
