/**
 * The one agent runtime a server wakes, as the deployment names it: an ARN, or a runtime name
 * resolved to its ARN through the control plane at the first wake. The name exists for the
 * deployment: the agent runtime's environment holds the MCP runtime's ARN (its URL), so the MCP
 * runtime cannot hold the agent runtime's ARN in the same template without a circular dependency,
 * while the name is known before either exists (and IAM can grant on it: `runtime/<name>-*`).
 */
import { McpServerError } from './errors.ts'

/** A runtime as the control plane lists it. */
export interface ListedRuntime {
  readonly name: string
  readonly arn: string
}

/** One page of ListAgentRuntimes. */
export type ListRuntimes = (
  nextToken: string | undefined,
) => Promise<{ readonly runtimes: readonly ListedRuntime[]; readonly nextToken?: string | undefined }>

/** Runtime names (AgentCore's rule): a letter, then up to 47 letters, digits or `_`. */
const RUNTIME_NAME = /^[a-zA-Z][a-zA-Z0-9_]{0,47}$/
const RUNTIME_ARN =
  /^arn:aws[a-z-]*:bedrock-agentcore:[a-z0-9-]+:\d{12}:runtime\/[a-zA-Z][a-zA-Z0-9_]{0,47}-[a-zA-Z0-9]{10}$/

/** The ARN to wake, resolved once (a failed lookup is tried again at the next wake). */
export function wakeTarget(runtime: string, list: () => ListRuntimes): () => Promise<string> {
  if (runtime.includes(':')) {
    if (!RUNTIME_ARN.test(runtime))
      throw new McpServerError('INVALID_CONFIG', `MCP_WAKE_RUNTIME is not an agent runtime ARN: ${runtime}`, {
        field: 'MCP_WAKE_RUNTIME',
      })
    return async () => runtime
  }
  if (!RUNTIME_NAME.test(runtime))
    throw new McpServerError(
      'INVALID_CONFIG',
      `MCP_WAKE_RUNTIME must be an agent runtime ARN or name (a letter, then letters, digits or _): ${runtime}`,
      { field: 'MCP_WAKE_RUNTIME' },
    )
  let resolved: Promise<string> | undefined
  return () => {
    resolved ??= resolve(runtime, list()).catch((error: unknown) => {
      resolved = undefined
      throw error
    })
    return resolved
  }
}

async function resolve(name: string, list: ListRuntimes): Promise<string> {
  let nextToken: string | undefined
  do {
    const page = await list(nextToken)
    const found = page.runtimes.find((runtime) => runtime.name === name)
    if (found !== undefined) return found.arn
    nextToken = page.nextToken
  } while (nextToken !== undefined)
  throw Object.assign(new Error(`no agent runtime is named ${name}`), { code: 'WAKE_RUNTIME_NOT_FOUND' })
}
