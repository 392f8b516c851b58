/** Helpers for the long-running MCP server tests: a server on port 0 and real MCP SDK clients. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before } from 'node:test'
import type { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { formatCompositeSessionHeader } from '../../src/mcp/index.ts'
import {
  type LocalAgentCoreFixture,
  listSessionEvents,
  startLocalAgentCore,
  TEST_CREDENTIALS,
  waitFor,
} from './local-agentcore.ts'
import {
  LongRunningMcpServer,
  type LongRunningMcpServerConfig,
  modelTrainingTool,
  textStatisticsTool,
} from '../../src/mcp-server/index.ts'

export const TEST_TOKEN = 'test-secret-token'

/**
 * The environment of an MCP server (or `longrun worker`) started as its own process: a free port on
 * loopback, `dataDir`, the test token, and result delivery to the local AgentCore service at
 * `agentCoreUrl` with the test credentials; `more` adds or overrides variables.
 */
export function mcpProcessEnv(
  agentCoreUrl: string,
  dataDir: string,
  more: Record<string, string> = {},
): Record<string, string> {
  return {
    MCP_PORT: '0',
    MCP_HOST: '127.0.0.1',
    LONGRUN_DATA_DIR: dataDir,
    MCP_BEARER_TOKEN: TEST_TOKEN,
    AGENTCORE_ENDPOINT: agentCoreUrl,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    ...more,
  }
}

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

export { waitFor } from './local-agentcore.ts'

/** Every event of one actor's session, oldest first, as event id and the first payload's text. */
export async function listAllEvents(
  data: BedrockAgentCoreClient,
  memoryId: string,
  actorId: string,
  sessionId: string,
): Promise<Array<{ eventId: string; text: string }>> {
  return (await listSessionEvents(data, memoryId, actorId, sessionId)).map((event) => {
    const payload = event.payload?.[0]
    const text =
      payload !== undefined && 'conversational' in payload
        ? (payload.conversational?.content?.text ?? '')
        : ''
    return { eventId: event.eventId ?? '', text }
  })
}

/** The structured content of a tool result, typed loosely for assertions. */
export function structured(result: unknown): Record<string, unknown> {
  return ((result as { structuredContent?: Record<string, unknown> }).structuredContent ?? {}) as Record<
    string,
    unknown
  >
}

/** Calls an async task tool (a `start_…` tool, say) with `client` and returns the task id it answers. */
export async function startTask(
  client: Client,
  tool: string,
  args: Record<string, unknown>,
): Promise<string> {
  const started = await client.callTool({ name: tool, arguments: args })
  return structured(started).task_id as string
}

/** Waits until `runner` runs no task, its bookkeeping after each end included. */
export async function waitIdle(
  runner: { readonly running: number },
  what = 'the runner to go idle',
  timeoutMs = 15_000,
): Promise<void> {
  await waitFor(() => runner.running === 0, timeoutMs, what)
}

/** What an MCP server test file shares: the local AgentCore service, one memory, the server. */
export interface McpTestBed {
  readonly env: LocalAgentCoreFixture
  readonly memoryId: string
  readonly server: LongRunningMcpServer
  /** The server's data directory (task database, model artifacts). */
  readonly dataDir: string
  /** A real MCP client to the server, closed in `after`. */
  connect(options?: ConnectOptions): Promise<Client>
}

/**
 * Registers `before`/`after` hooks that start the local AgentCore service, a memory and the server
 * (`startTestServer` with `overrides`, delivering into that service) and stop them all again.
 */
export function useMcpTestBed(
  overrides: (dataDir: string) => Parameters<typeof startTestServer>[1] = () => ({}),
): McpTestBed {
  const clients: Client[] = []
  let dir: { path: string; remove(): Promise<void> }
  const bed = {
    async connect(options: ConnectOptions = {}) {
      const client = await connectClient(bed.server.url, options)
      clients.push(client)
      return client
    },
  } as { env: LocalAgentCoreFixture; memoryId: string; server: LongRunningMcpServer; dataDir: string } & Pick<
    McpTestBed,
    'connect'
  >
  before(async () => {
    bed.env = await startLocalAgentCore()
    bed.memoryId = await bed.env.createMemory()
    dir = await tempDir()
    bed.dataDir = dir.path
    bed.server = await startTestServer(dir.path, { memoryClient: bed.env.data, ...overrides(dir.path) })
  })
  after(async () => {
    for (const client of clients) await client.close()
    await bed.server.close()
    await bed.env.close()
    await dir.remove()
  })
  return bed
}

/** The /mcp URL of a port that was free a moment ago: nothing listens there (connection refused). */
export async function unreachableMcpUrl(): Promise<string> {
  const { createServer } = await import('node:net')
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}/mcp`
}
