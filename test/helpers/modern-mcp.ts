/**
 * One request of MCP spec 2026-07-28 as its clients frame it: the era's headers (protocol version,
 * method, name) and its `_meta` envelope, declaring the tasks extension unless told not to. For the
 * extension's calls, which the SDK 2.4 client does not send (it refuses a task answer to tools/call).
 */
import { formatCompositeSessionHeader, MEMORY_HEADER } from '../../src/contract/index.ts'
import { TASKS_EXTENSION } from '../../src/mcp-server/tasks-extension.ts'
import { TEST_TOKEN } from './mcp-server.ts'

export const MODERN_ERA = '2026-07-28'

/** What one request answered: the HTTP status and the JSON-RPC result or error. */
export interface ModernAnswer {
  readonly status: number
  readonly result?: Record<string, unknown>
  readonly error?: { code: number; message: string }
}

export interface ModernRequestOptions {
  /** Declare the tasks extension in this request's client capabilities (default true). */
  readonly extension?: boolean
  /** The caller's memory, in `x-longrun-memory`. */
  readonly memory?: { readonly sessionId: string; readonly memoryId: string; readonly actorId: string }
  /** `Mcp-Name`: the tool's name for tools/call, the task id for tasks/*. */
  readonly name?: string
  /** The JSON-RPC id (default 1). */
  readonly id?: number
}

/** POSTs one request of the era to `url`: the response as it comes (a stream is left unread). */
export function modernRequest(
  url: string,
  method: string,
  params: Record<string, unknown>,
  options: ModernRequestOptions = {},
): Promise<Response> {
  const capabilities = options.extension === false ? {} : { extensions: { [TASKS_EXTENSION]: {} } }
  return fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${TEST_TOKEN}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN_ERA,
      'mcp-method': method,
      ...(options.name !== undefined && { 'mcp-name': options.name }),
      ...(options.memory !== undefined && { [MEMORY_HEADER]: formatCompositeSessionHeader(options.memory) }),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: options.id ?? 1,
      method,
      params: {
        ...params,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': MODERN_ERA,
          'io.modelcontextprotocol/clientCapabilities': capabilities,
          'io.modelcontextprotocol/clientInfo': { name: 'longrun-test', version: '1.0.0' },
        },
      },
    }),
  })
}

/** POSTs one request of the era to `url` and reads its answer (JSON or the last SSE message). */
export async function modernPost(
  url: string,
  method: string,
  params: Record<string, unknown>,
  options: ModernRequestOptions = {},
): Promise<ModernAnswer> {
  const response = await modernRequest(url, method, params, options)
  const text = await response.text()
  const json = response.headers.get('content-type')?.includes('text/event-stream')
    ? JSON.parse(
        text
          .split('\n')
          .filter((line) => line.startsWith('data: '))
          .at(-1)
          ?.slice(6) ?? '{}',
      )
    : JSON.parse(text)
  return {
    status: response.status,
    ...(json.result !== undefined && { result: json.result }),
    ...(json.error !== undefined && { error: json.error }),
  }
}
