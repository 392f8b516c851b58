/**
 * What the runtime does with a checked invocation: builds the agent of the session, streams the
 * turn as runtime events, and answers `{ response, session_id, tasks }`. Failures become
 * {@link RuntimeError}s with a code; the conversation stored in memory stays valid for the next turn.
 */
import {
  type AgentStreamEvent,
  type ContentBlock,
  InterruptResponseContent,
  type Model,
  ModelError,
  TextBlock,
} from '@strands-agents/sdk'
import {
  buildInvocationAgent,
  type InvocationAgent,
  type InvocationAgentConfig,
  McpToolListings,
  modelUnreachableReason,
  pendingInterruptsOf,
} from '../agent/index.ts'
import {
  type MemoryDataClient,
  type MemoryLogger,
  MemorySessionError,
  SessionCache,
} from '../memory/index.ts'
import { interruptPendingMessage, RuntimeError } from './errors.ts'
import type { InterruptAnswer, WakeRequest } from './invocation-request.ts'
import {
  type BuildOptions,
  type ContinuationLimits,
  runContinuation,
  type TurnInput,
  type TurnRunner,
} from './continuation-turn.ts'
import { RUNTIME_DEFAULTS } from './runtime-defaults.ts'
import { CONTINUATION_HEADERS } from '../contract/index.ts'
import type { PendingWrites } from './pending-writes.ts'
import {
  type InvocationAnswer,
  type RuntimeInterrupt,
  type RuntimeStreamEvent,
  runtimeInterruptOf,
  type StartedTask,
} from './stream-events.ts'

/** One invocation, checked and resolved: who, which memory session, what to say. */
export interface ResolvedInvocation {
  /** What the user says; undefined when the invocation answers a paused turn instead. */
  readonly prompt: string | undefined
  /** The answers that resume the session's paused turn (instead of a prompt). */
  readonly interruptResponses?: readonly InterruptAnswer[] | undefined
  /** A wake from the MCP server instead of a prompt: a continuation turn (see `continuation-turn.ts`). */
  readonly wake?: WakeRequest | undefined
  /** The runtime session id the answer names (the caller's, or one made for it). */
  readonly runtimeSessionId: string
  readonly memoryId: string
  readonly actorId: string
  /** The AgentCore Memory session id (the runtime id, or its mapping). */
  readonly memorySessionId: string
  /** The caller's verified bearer token, when callers authenticate with JWTs. */
  readonly callerToken: string | undefined
  /** Aborted when the turn must stop: its reason is the {@link RuntimeError} to report. */
  readonly signal: AbortSignal
}

/** Runs one invocation, telling `emit` what happens, and resolves with the answer. */
export type InvocationHandler = (
  invocation: ResolvedInvocation,
  emit: (event: RuntimeStreamEvent) => void,
) => Promise<InvocationAnswer>

/** Configuration of {@link createAgentInvocationHandler}. */
export interface AgentInvocationHandlerConfig {
  readonly model: Model
  /**
   * Where the model is served (`openai at http://127.0.0.1:11434/v1`, see `describeModelEndpoint`):
   * named in the MODEL_ERROR of a model that cannot be reached.
   */
  readonly modelEndpoint?: string | undefined
  readonly memoryClient: MemoryDataClient
  /** The long-running MCP server; without a bearer token the caller's verified token is passed on. */
  readonly mcp?: { readonly url: string; readonly bearerToken?: string | undefined } | undefined
  /**
   * The MCP tool listings kept by this process, per server and token (default: listings with the
   * default limits): an invocation offers the tools listed before and connects only to call one.
   * `false` connects and lists on every invocation (for a server whose tools change without saying so).
   */
  readonly mcpToolListings?: McpToolListings | false
  readonly conversationWindow?: number | undefined
  readonly systemPrompt?: string | undefined
  /** Tools (by name) that ask the caller before each call: the turn pauses (`interrupt` events). */
  readonly approvalTools?: readonly string[] | undefined
  /**
   * Warm sessions: the windows restored by this process, reused by the next invocation of the same
   * session (default: a cache with the default limits); `false` restores every invocation cold.
   */
  readonly sessionCache?: SessionCache | false
  /** More settings of each invocation's session manager (retry policy, batching, retrieval). */
  readonly sessionManager?: InvocationAgentConfig['sessionManager']
  /** Where turns whose final write failed are kept and retried. */
  readonly pendingWrites: PendingWrites
  /** Bounds of continuations: the depth of a chain, and continuations per session per hour. */
  readonly continuations?: ContinuationLimits | undefined
  readonly logger: MemoryLogger
}

/** The handler that answers with a Strands agent built for each invocation. */
export function createAgentInvocationHandler(config: AgentInvocationHandlerConfig): InvocationHandler {
  const listings =
    config.mcpToolListings === false ? undefined : (config.mcpToolListings ?? new McpToolListings())
  // Windows restored by this process: the next invocation of a session reads only what is new.
  const sessionCache = config.sessionCache === false ? undefined : (config.sessionCache ?? new SessionCache())
  const build = (invocation: ResolvedInvocation, turn: TurnState, options: BuildOptions) =>
    buildInvocationAgent({
      model: config.model,
      memory: {
        memoryId: invocation.memoryId,
        actorId: invocation.actorId,
        sessionId: invocation.memorySessionId,
        client: config.memoryClient,
      },
      ...(config.mcp !== undefined &&
        options.tools && {
          mcp: {
            url: config.mcp.url,
            bearerToken: config.mcp.bearerToken ?? invocation.callerToken,
            listings,
            headers: continuationHeaders(invocation),
          },
        }),
      onToolProgress: (progress) => {
        const ids = turn.running.get(progress.tool)
        const only = ids?.size === 1 ? [...ids][0] : undefined
        emit(turn, {
          type: 'tool_progress',
          tool: progress.tool,
          ...(only !== undefined && { tool_use_id: only }),
          progress: progress.progress,
          ...(progress.total !== undefined && { total: progress.total }),
          ...(progress.message !== undefined && { message: progress.message }),
        })
      },
      onTaskStarted: (task) => {
        const started = { task_id: task.taskId, tool: task.tool }
        turn.tasks.push(started)
        emit(turn, { type: 'task_started', ...started })
      },
      ...(config.conversationWindow !== undefined && { conversationWindow: config.conversationWindow }),
      ...(config.systemPrompt !== undefined && { systemPrompt: config.systemPrompt }),
      ...(config.approvalTools !== undefined && { approvalTools: config.approvalTools }),
      sessionManager: {
        ...(sessionCache !== undefined && { sessionCache }),
        ...config.sessionManager,
        ...(options.metadata !== undefined && {
          defaultMetadata: { ...config.sessionManager?.defaultMetadata, ...options.metadata },
        }),
      },
      logger: config.logger,
    })
  const emit = (turn: TurnState, event: RuntimeStreamEvent) => turn.emit(event)
  const turns: TurnRunner = {
    open: async (invocation, turn, options) => {
      const built = await unlessStopped(build(invocation, turn, options), invocation.signal, config)
      if (built.toolProblem !== undefined)
        config.logger.warn(`reason=${JSON.stringify(built.toolProblem)} | tools unavailable`)
      return built
    },
    run: (built, invocation, turn, input) => runTurn(built, invocation, turn, input, config),
    close: (built) => closeQuietly(built, config),
  }
  const limits = config.continuations ?? {
    depth: RUNTIME_DEFAULTS.continuationDepthLimit,
    perHour: RUNTIME_DEFAULTS.wakesPerHour,
  }
  return async (invocation, emitEvent) => {
    const turn: TurnState = { tasks: [], running: new Map(), emit: emitEvent }
    if (invocation.wake !== undefined)
      return runContinuation(invocation, invocation.wake, turn, {
        turns,
        limits,
        memoryClient: config.memoryClient,
      })
    const built = await turns.open(invocation, turn, { tools: true })
    try {
      return await runTurn(built, invocation, turn, turnInput(built, invocation), config)
    } finally {
      // Every way out (answer, failure, stop) writes what is buffered and disconnects from the MCP server.
      await closeQuietly(built, config)
    }
  }
}

/**
 * The headers of the turn's MCP connection: the runtime session a task it starts may wake, and, in
 * a continuation, how deep in its chain the turn is.
 */
function continuationHeaders(invocation: ResolvedInvocation): Record<string, string> {
  return {
    [CONTINUATION_HEADERS.runtimeSession]: invocation.runtimeSessionId,
    ...(invocation.wake !== undefined && { [CONTINUATION_HEADERS.depth]: String(invocation.wake.depth) }),
  }
}

/** What a turn collects as it runs, and where its events go. */
export interface TurnState {
  readonly tasks: StartedTask[]
  /** Tool use ids running now, by tool name: where a progress notification belongs. */
  readonly running: Map<string, Set<string>>
  readonly emit: (event: RuntimeStreamEvent) => void
}

/**
 * Waits for the agent to be built, unless the turn is stopped first (a timeout, a shutdown): the
 * stop is reported at once, and the agent, once built, is closed.
 */
async function unlessStopped(
  building: Promise<InvocationAgent>,
  signal: AbortSignal,
  config: AgentInvocationHandlerConfig,
): Promise<InvocationAgent> {
  let onAbort: () => void = () => {}
  const stopped = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(stopReason(signal))
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([
      building.catch((error: unknown) => Promise.reject(translate(error, config))),
      stopped,
    ])
  } catch (error) {
    if (signal.aborted) building.then((built) => closeQuietly(built, config)).catch(() => {})
    throw error
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/** Streams the turn as runtime events and resolves with its answer. */
async function runTurn(
  built: InvocationAgent,
  invocation: ResolvedInvocation,
  turn: TurnState,
  input: TurnInput,
  config: AgentInvocationHandlerConfig,
): Promise<InvocationAnswer> {
  const emit = turn.emit
  let interrupts: RuntimeInterrupt[] | undefined
  const answer = (response: string): InvocationAnswer => ({
    response,
    session_id: invocation.runtimeSessionId,
    tasks: turn.tasks,
    ...(interrupts !== undefined && { interrupts }),
  })
  let response: string | undefined
  /** The text of the model's last message when it ended the turn: the answer, even if its write fails. */
  let finalText: string | undefined
  try {
    for await (const event of built.agent.stream(input, { cancelSignal: invocation.signal })) {
      const update = streamEventOf(event, turn.running)
      if (update !== undefined) emit(update)
      if (event.type === 'modelMessageEvent')
        finalText = event.stopReason === 'endTurn' ? textOf(event.message.content) : undefined
      if (event.type === 'agentResultEvent') {
        if (event.result.stopReason === 'cancelled' && invocation.signal.aborted)
          throw stopReason(invocation.signal)
        response = event.result.toString()
        if (event.result.stopReason === 'interrupt')
          interrupts = (event.result.interrupts ?? []).map(runtimeInterruptOf)
      }
    }
  } catch (error) {
    if (invocation.signal.aborted) throw stopReason(invocation.signal)
    // The model had answered when the turn's last write failed: the answer stands, and closing hands
    // the unwritten messages to the background retries. A write that fails before a tool runs is a
    // failed turn (the tool never ran), not an answer.
    if (error instanceof MemorySessionError && error.code === 'WRITE_FAILED' && finalText !== undefined)
      return answer(finalText)
    throw translate(error, config)
  }
  return answer(response ?? finalText ?? '')
}

/**
 * What the agent is given: the prompt, or the answers to the questions its restored turn is paused
 * on. Refused before anything runs or is written: a prompt while questions wait (`INTERRUPT_PENDING`),
 * an answer to a question not waited on (`INTERRUPT_NOT_FOUND`: answered already, or never asked).
 */
function turnInput(built: InvocationAgent, invocation: ResolvedInvocation): TurnInput {
  const pending = pendingInterruptsOf(built.agent)
  const answers = invocation.interruptResponses
  if (answers === undefined) {
    if (pending.length > 0)
      throw new RuntimeError(
        'INTERRUPT_PENDING',
        interruptPendingMessage(pending.map((interrupt) => interrupt.id)),
        { field: 'prompt' },
      )
    return invocation.prompt ?? ''
  }
  const waiting = new Set(pending.map((interrupt) => interrupt.id))
  const unknown = answers.find((answer) => !waiting.has(answer.interruptId))
  if (unknown !== undefined)
    throw new RuntimeError(
      'INTERRUPT_NOT_FOUND',
      `the session is not waiting on ${unknown.interruptId} (answered already, or never asked)`,
      { field: 'interrupt_responses' },
    )
  return answers.map(
    (answer) =>
      new InterruptResponseContent({ interruptId: answer.interruptId, response: answer.response as never }),
  )
}

/** Closes the agent; a final write that fails is handed to the background retries, not dropped. */
async function closeQuietly(built: InvocationAgent, config: AgentInvocationHandlerConfig): Promise<void> {
  try {
    await built.close()
  } catch (error) {
    config.logger.warn(
      `error=${(error as Error).message} | final memory write failed; retried in the background`,
    )
    config.pendingWrites.keep(built.sessionManager)
  }
}

/** The runtime event of one agent event, if it has one. */
function streamEventOf(
  event: AgentStreamEvent,
  running: Map<string, Set<string>>,
): RuntimeStreamEvent | undefined {
  switch (event.type) {
    case 'modelStreamUpdateEvent': {
      const update = event.event
      if (update.type === 'modelContentBlockDeltaEvent' && update.delta.type === 'textDelta')
        return { type: 'text', text: update.delta.text }
      return undefined
    }
    case 'beforeToolCallEvent': {
      const { name, toolUseId, input } = event.toolUse
      const ids = running.get(name) ?? new Set<string>()
      ids.add(toolUseId)
      running.set(name, ids)
      return { type: 'tool_start', tool: name, tool_use_id: toolUseId, input }
    }
    case 'interruptEvent':
      return { type: 'interrupt', ...runtimeInterruptOf(event.interrupt) }
    case 'toolResultEvent': {
      const { toolUseId, status } = event.result
      let tool = 'unknown'
      for (const [name, ids] of running) {
        if (ids.delete(toolUseId)) tool = name
      }
      return { type: 'tool_end', tool, tool_use_id: toolUseId, status }
    }
    default:
      return undefined
  }
}

function textOf(content: readonly ContentBlock[]): string {
  return content.flatMap((block) => (block instanceof TextBlock ? [block.text] : [])).join('\n')
}

/** Why the turn was stopped: the reason the runtime aborted it with. */
function stopReason(signal: AbortSignal): RuntimeError {
  const reason: unknown = signal.reason
  return reason instanceof RuntimeError ? reason : new RuntimeError('INTERNAL', 'the turn was stopped')
}

/** A build or turn failure as the caller sees it; the details go to the log, not to the caller. */
function translate(error: unknown, config: AgentInvocationHandlerConfig): RuntimeError {
  if (error instanceof RuntimeError) return error
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  if (error instanceof MemorySessionError) {
    const name = (error.cause as { name?: string } | undefined)?.name
    if (name === 'ResourceNotFoundException')
      return new RuntimeError(
        'MEMORY_NOT_FOUND',
        'the memory does not exist (check memory_id or MEMORY_ID)',
        {
          cause: error,
        },
      )
    config.logger.warn(`error=${JSON.stringify(detail)} | memory failed`)
    if (name === 'ValidationException' || name === 'AccessDeniedException')
      return new RuntimeError('MEMORY_UNAVAILABLE', `AgentCore Memory refused the request (${name})`, {
        cause: error,
      })
    return new RuntimeError('MEMORY_UNAVAILABLE', `AgentCore Memory could not be reached (${error.code})`, {
      cause: error,
    })
  }
  // Strands wraps model failures in ModelError; Bedrock's stream exceptions arrive as AWS errors.
  if (error instanceof ModelError || (error instanceof Error && '$fault' in error)) {
    // The provider's message can name accounts and roles: the caller gets the error's name only.
    config.logger.warn(`error=${JSON.stringify(detail)} | model failed`)
    // Not reached at all: the endpoint and the network code say what to fix, and quote nobody.
    const unreachable = modelUnreachableReason(error)
    if (unreachable !== undefined)
      return new RuntimeError(
        'MODEL_ERROR',
        `the model could not be reached: ${config.modelEndpoint ?? 'its endpoint'} (${unreachable})`,
        { cause: error },
      )
    return new RuntimeError('MODEL_ERROR', `the model failed (${error.name})`, { cause: error })
  }
  return new RuntimeError('INTERNAL', 'the invocation failed', { cause: error })
}
