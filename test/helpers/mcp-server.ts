/** Helpers for the long-running MCP server tests: a server on port 0 and real MCP SDK clients. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type BedrockAgentCoreClient, ListEventsCommand } from '@aws-sdk/client-bedrock-agentcore'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { formatCompositeSessionHeader } from '../../src/mcp/index.ts'
import {
  LongRunningMcpServer,
  type LongRunningMcpServerConfig,
  modelTrainingTool,
  textStatisticsTool,
} from '../../src/mcp-server/index.ts'

export const TEST_TOKEN = 'test-secret-token'

/** A temporary directory removed on dispose. */
export async function tempDir(prefix = 'longrun-mcp-'): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return { path, remove: () => rm(path, { recursive: true, force: true }) }
}

/** Starts the server with the example tools on port 0 (bearer auth with {@link TEST_TOKEN}). */
export async function startTestServer(
  dataDir: string,
  overrides: Partial<LongRunningMcpServerConfig> & { epochDelayMs?: number } = {},
): Promise<LongRunningMcpServer> {
  const { epochDelayMs, ...rest } = overrides
  return LongRunningMcpServer.start({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    auth: { kind: 'bearer', token: TEST_TOKEN },
    tools: [modelTrainingTool({ dataDir, epochDelayMs: epochDelayMs ?? 0 }), textStatisticsTool()],
    deliveryBaseDelayMs: 20,
    deliveryMaxDelayMs: 200,
    ...rest,
  })
}

/** Options of {@link connectClient}. */
export interface ConnectOptions {
  readonly token?: string
  /** Sends the composite header for this session/memory/actor. */
  readonly memory?: { sessionId: string; memoryId: string; actorId: string }
  /** A raw `mcp-session-id` value (wins over `memory`). */
  readonly sessionHeader?: string
}

/** A real MCP SDK client over Streamable HTTP (close it with `client.close()`). */
export async function connectClient(url: string, options: ConnectOptions = {}): Promise<Client> {
  const headers: Record<string, string> = { authorization: `Bearer ${options.token ?? TEST_TOKEN}` }
  const session =
    options.sessionHeader ??
    (options.memory === undefined ? undefined : formatCompositeSessionHeader(options.memory))
  // Lower-case key: the SDK merges its own 'mcp-session-id' with these headers.
  if (session !== undefined) headers['mcp-session-id'] = session
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } })
  const client = new Client({ name: 'longrun-test', version: '1.0.0' }, { capabilities: {} })
  await client.connect(transport)
  return client
}

/** Polls `check` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** Every event of one actor's session, oldest first. */
export async function listAllEvents(
  data: BedrockAgentCoreClient,
  memoryId: string,
  actorId: string,
  sessionId: string,
): Promise<Array<{ eventId: string; text: string }>> {
  const events: Array<{ eventId: string; text: string }> = []
  let nextToken: string | undefined
  do {
    const page = await data.send(
      new ListEventsCommand({
        memoryId,
        actorId,
        sessionId,
        includePayloads: true,
        maxResults: 100,
        nextToken,
      }),
    )
    for (const event of page.events ?? []) {
      const payload = event.payload?.[0]
      const text =
        payload !== undefined && 'conversational' in payload
          ? (payload.conversational?.content?.text ?? '')
          : ''
      events.push({ eventId: event.eventId ?? '', text })
    }
    nextToken = page.nextToken
  } while (nextToken !== undefined)
  return events.reverse()
}

/** The structured content of a tool result, typed loosely for assertions. */
export function structured(result: unknown): Record<string, unknown> {
  return ((result as { structuredContent?: Record<string, unknown> }).structuredContent ?? {}) as Record<
    string,
    unknown
  >
}
