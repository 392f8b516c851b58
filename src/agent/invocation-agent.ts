/**
 * The agent of one invocation: a Strands agent whose conversation lives in AgentCore Memory (the
 * session manager restores it and writes the turn back) and whose tools are the long-running MCP
 * server's, called with the composite session header so background results land in this session.
 * The runtime builds one per invocation; users embed the same wiring in runtimes of their own.
 */
import {
  Agent,
  type ConversationManager,
  type Model,
  SlidingWindowConversationManager,
  type Tool,
} from '@strands-agents/sdk'
import {
  AgentCoreMemorySessionManager,
  type AgentCoreMemorySessionManagerConfig,
  type MemoryDataClient,
  type MemoryLogger,
} from '../memory/index.ts'
import type { StartedToolTask, ToolProgress } from '../mcp/index.ts'
import { DEFAULT_CONVERSATION_WINDOW } from './agent-defaults.ts'
import { requireApproval } from './approval-hook.ts'
import type { McpToolListings } from './mcp-tool-listings.ts'
import { type McpTools, mcpToolsFor } from './mcp-tools.ts'
import { LONG_RUNNING_SYSTEM_PROMPT, systemPromptFor } from './system-prompt.ts'

/** Everything one invocation's agent is built from. */
export interface InvocationAgentConfig {
  /** Shared by the process's invocations. */
  readonly model: Model
  /** Whose conversation this is. */
  readonly memory: {
    readonly memoryId: string
    readonly actorId: string
    readonly sessionId: string
    readonly client: MemoryDataClient
  }
  /** The long-running MCP server; no MCP tools without it. */
  readonly mcp?: {
    readonly url: string
    readonly bearerToken?: string | undefined
    /**
     * The process's listings: a current one is offered without listing again (the invocation
     * connects when a tool is called), an old one as errors while the server is down. Without
     * them, every invocation connects and lists.
     */
    readonly listings?: McpToolListings | undefined
    /**
     * More headers of the connection: the runtime session whose agent a task's end may wake, and
     * the depth of a continuation turn (see `CONTINUATION_HEADERS`).
     */
    readonly headers?: Readonly<Record<string, string>> | undefined
  }
  /** Told of each progress notification of a running MCP tool. */
  readonly onToolProgress?: (progress: ToolProgress) => void
  /** Told when a tool started a background task. */
  readonly onTaskStarted?: (task: StartedToolTask) => void
  /** Tools of your own besides the MCP server's. */
  readonly tools?: readonly Tool[]
  /** Tools (by name) whose every call asks the caller first: the turn pauses until it answers. */
  readonly approvalTools?: readonly string[]
  /** Default {@link LONG_RUNNING_SYSTEM_PROMPT}. */
  readonly systemPrompt?: string
  /** Messages kept in the model's context (default 40): a sliding window, applied to the restored history too. */
  readonly conversationWindow?: number
  /** Another conversation manager instead of the sliding window (then applied by Strands' own rules only). */
  readonly conversationManager?: ConversationManager
  /** More settings of the session manager (batching, retrieval, retry, a warm-session cache, ...). */
  readonly sessionManager?: Partial<
    Omit<AgentCoreMemorySessionManagerConfig, 'memoryId' | 'actorId' | 'sessionId' | 'client'>
  >
  readonly logger?: MemoryLogger
}

/** A built agent, its history restored; `close()` writes what is buffered and disconnects. */
export interface InvocationAgent {
  readonly agent: Agent
  readonly sessionManager: AgentCoreMemorySessionManager
  /**
   * Why the MCP tools are not usable in this invocation, undefined when they are (or were offered
   * from the process's listing without connecting: a server down since is found by the first call).
   */
  readonly toolProblem: string | undefined
  close(): Promise<void>
}

/**
 * Builds the agent of one invocation and restores its conversation from memory, bounded to the
 * conversation window. The MCP tools are found while the session is restored, not after. Throws
 * the session manager's `READ_FAILED` when the session cannot be read; an MCP server that is down
 * does not throw (see {@link InvocationAgent.toolProblem}).
 */
export async function buildInvocationAgent(config: InvocationAgentConfig): Promise<InvocationAgent> {
  const { memory } = config
  const window = config.conversationWindow ?? DEFAULT_CONVERSATION_WINDOW
  const sessionManager = new AgentCoreMemorySessionManager({
    // The restore reads the window the agent keeps; another conversation manager's is not known.
    restoreWindow: config.conversationManager === undefined ? window : 'full',
    ...config.sessionManager,
    memoryId: memory.memoryId,
    actorId: memory.actorId,
    sessionId: memory.sessionId,
    client: memory.client,
    ...(config.logger !== undefined && { logger: config.logger }),
  })
  const finding: Promise<McpTools> | undefined =
    config.mcp === undefined
      ? undefined
      : mcpToolsFor({
          url: config.mcp.url,
          bearerToken: config.mcp.bearerToken,
          memory: { sessionId: memory.sessionId, memoryId: memory.memoryId, actorId: memory.actorId },
          onProgress: config.onToolProgress,
          onTaskStarted: config.onTaskStarted,
          listings: config.mcp.listings,
          headers: config.mcp.headers,
        })
  const slidingWindow =
    config.conversationManager === undefined
      ? new SlidingWindowConversationManager({ windowSize: window })
      : undefined
  const basePrompt = config.systemPrompt ?? LONG_RUNNING_SYSTEM_PROMPT
  const agent = new Agent({
    model: config.model,
    systemPrompt: basePrompt,
    sessionManager,
    conversationManager: config.conversationManager ?? (slidingWindow as ConversationManager),
    printer: false,
  })
  requireApproval(agent, config.approvalTools ?? [])
  let mcp: McpTools | undefined
  try {
    // Restores the session now, so a session that cannot be read fails before any model call.
    const [found] = await Promise.all([finding, agent.initialize()])
    mcp = found
    // Tools are read at each model call: added after the restore, they are the agent's from the start.
    agent.toolRegistry.add([...(mcp?.tools ?? []), ...(config.tools ?? [])])
    if (mcp?.problem !== undefined) agent.systemPrompt = systemPromptFor(basePrompt, mcp.problem)
  } catch (error) {
    // A listing still under way when the restore failed is not waited for: it is closed once it ends.
    if (mcp !== undefined) await mcp.disconnect()
    else
      void finding?.then(
        (found) => found.disconnect(),
        () => {},
      )
    throw error
  }
  const close = async () => {
    try {
      await sessionManager.close()
    } finally {
      await mcp?.disconnect()
    }
  }
  // Strands applies its window only after an invocation: the first model call would otherwise be
  // sent the whole restored session. Trimming here keeps toolUse/toolResult pairs together.
  if (slidingWindow !== undefined && agent.messages.length > window)
    slidingWindow.reduce({ agent, model: config.model })
  return { agent, sessionManager, toolProblem: mcp?.problem, close }
}
