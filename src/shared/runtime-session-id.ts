import { randomUUID } from 'node:crypto'

/**
 * A fresh AgentCore Runtime session id: 33 to 256 characters, as InvokeAgentRuntime requires, and
 * made of letters, digits and `-` only, so it is also a valid AgentCore Memory session id.
 */
export function newRuntimeSessionId(): string {
  return `${randomUUID()}-${Date.now().toString(36)}`
}
