/**
 * A small real MCP server (the MCP SDK's `Server` over stateless Streamable HTTP, on port 0) whose
 * tools a test changes while it runs, and which records every request it answers: the JSON-RPC
 * method, the tool called, and who asked (the bearer token and the `mcp-session-id` header). Tests
 * observe the agent's MCP traffic through it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
  McpError,
  ErrorCode,
} from '@modelcontextprotocol/sdk/types.js'

/** What a tool's handler is given. */
export interface RecordedCall {
  readonly args: Record<string, unknown>
  /** The caller's bearer token. */
  readonly token: string
  /** The `mcp-session-id` header the call came with. */
  readonly sessionHeader: string | undefined
  /** Sends `notifications/tools/list_changed` on this call's response stream. */
  notifyToolsChanged(): Promise<void>
}

/** A tool of the server: its name, and what a call answers (as text). */
export interface ChangingTool {
  readonly name: string
  run(call: RecordedCall): string | Promise<string>
}

/** One request the server answered. */
export interface RecordedRequest {
  readonly method: string
  readonly tool: string | undefined
  readonly token: string
  readonly sessionHeader: string | undefined
}

export interface RecordingMcpServer {
  readonly url: string
  /** Every JSON-RPC request answered, in order (notifications left out). */
  readonly requests: RecordedRequest[]
  /** How many requests of `method` (for one token, when given) were answered. */
  count(method: string, token?: string): number
  /** Offers `tool` from the next request on (to every token, or to those given). */
  addTool(tool: ChangingTool, tokens?: readonly string[]): void
  /** Stops offering the tool named, without telling anyone. */
  removeTool(name: string): void
  close(): Promise<void>
}

/** Starts the server; `tokens` are the bearer tokens it accepts (any other is a 401). */
export async function startRecordingMcpServer(tokens: readonly string[]): Promise<RecordingMcpServer> {
  const tools = new Map<string, { tool: ChangingTool; tokens: readonly string[] | undefined }>()
  const requests: RecordedRequest[] = []
  const offered = (token: string) =>
    [...tools.values()].filter((entry) => entry.tokens === undefined || entry.tokens.includes(token))

  const answer = async (req: IncomingMessage, res: ServerResponse, token: string) => {
    const sessionHeader = req.headers['mcp-session-id'] as string | undefined
    const server = new Server(
      { name: 'recording-test-server', version: '1.0.0' },
      { capabilities: { tools: { listChanged: true } } },
    )
    server.setRequestHandler(ListToolsRequestSchema, () => {
      requests.push({ method: 'tools/list', tool: undefined, token, sessionHeader })
      return {
        tools: offered(token).map(({ tool }) => ({
          name: tool.name,
          description: `The test tool ${tool.name}`,
          inputSchema: { type: 'object' as const, properties: { text: { type: 'string' } } },
        })),
      }
    })
    server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
      const name = request.params.name
      requests.push({ method: 'tools/call', tool: name, token, sessionHeader })
      const entry = offered(token).find(({ tool }) => tool.name === name)
      if (entry === undefined) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`)
      const text = await entry.tool.run({
        args: request.params.arguments ?? {},
        token,
        sessionHeader,
        notifyToolsChanged: () => extra.sendNotification({ method: 'notifications/tools/list_changed' }),
      })
      return { content: [{ type: 'text', text }] }
    })
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
    res.on('close', () => {
      void transport.close()
      void server.close()
    })
    await server.connect(transport)
    const body = await readJson(req)
    for (const message of Array.isArray(body) ? body : [body]) {
      const method = (message as { method?: unknown; id?: unknown }).method
      if (method === 'initialize') requests.push({ method, tool: undefined, token, sessionHeader })
    }
    await transport.handleRequest(req, res, body)
  }

  const http = createServer((req, res) => {
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1]
    if (token === undefined || !tokens.includes(token)) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}')
      return
    }
    if (req.method !== 'POST') {
      // Stateless: no stream of its own for a GET, and nothing to end for a DELETE.
      res.writeHead(405).end()
      return
    }
    answer(req, res, token).catch(() => {
      if (!res.headersSent) res.writeHead(500).end()
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const { port } = http.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    requests,
    count: (method, token) =>
      requests.filter(
        (request) => request.method === method && (token === undefined || request.token === token),
      ).length,
    addTool: (tool, onlyFor) => {
      tools.set(tool.name, { tool, tokens: onlyFor })
    },
    removeTool: (name) => {
      tools.delete(name)
    },
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections()
        http.close(() => resolve())
      }),
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}
