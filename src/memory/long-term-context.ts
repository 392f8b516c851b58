/**
 * Long-term memory for one user turn: the records AgentCore extracted from past sessions that
 * match what the user just said, per configured namespace, as one text block for the model.
 */
import {
  RetrieveMemoryRecordsCommand,
  type RetrieveMemoryRecordsCommandOutput,
} from '@aws-sdk/client-bedrock-agentcore'
import { type ContentBlock, Message, TextBlock } from '@strands-agents/sdk'
import { errorName } from './errors.ts'
import type { MemoryDataClient } from './event-writer.ts'
import { MEMORY_LIMITS, type RetryPolicy, withRetry } from '../contract/index.ts'

/** How to search one namespace. */
export interface RetrievalConfig {
  /** Records asked for (1..100, the service's limit; default 10). */
  readonly topK?: number
  /** Records scoring below this are left out (0..1, default 0.2; 0 keeps all). */
  readonly relevanceScore?: number
  /** Fills the `{memoryStrategyId}` placeholder of the namespace. */
  readonly strategyId?: string
}

const DEFAULT_TOP_K = 10
const DEFAULT_RELEVANCE_SCORE = 0.2

/** Fills `{actorId}`, `{sessionId}` and `{memoryStrategyId}` in a namespace template. */
export function resolveNamespace(
  template: string,
  values: { actorId: string; sessionId: string; strategyId?: string | undefined },
): string {
  return template
    .replaceAll('{actorId}', values.actorId)
    .replaceAll('{sessionId}', values.sessionId)
    .replaceAll('{memoryStrategyId}', values.strategyId ?? '')
}

/** Input of {@link retrieveLongTermContext}. */
export interface LongTermContextRequest {
  readonly client: MemoryDataClient
  readonly memoryId: string
  readonly actorId: string
  readonly sessionId: string
  readonly namespaces: Readonly<Record<string, RetrievalConfig>>
  readonly query: string
  readonly retry: RetryPolicy
  readonly log: (line: string) => void
}

/**
 * Searches every namespace at once and returns the texts of the records that pass their score,
 * namespaces in configured order, best record first. A namespace that fails is logged and left
 * out: missing context must not stop the user's turn.
 */
export async function retrieveLongTermContext(request: LongTermContextRequest): Promise<string[]> {
  const { client, memoryId, actorId, sessionId } = request
  const searchQuery = request.query.slice(0, MEMORY_LIMITS.searchQuery)
  const perNamespace = await Promise.all(
    Object.entries(request.namespaces).map(async ([template, config]) => {
      const namespace = resolveNamespace(template, { actorId, sessionId, strategyId: config.strategyId })
      try {
        const output = (await withRetry(
          request.retry,
          () =>
            client.send(
              new RetrieveMemoryRecordsCommand({
                memoryId,
                // A subtree, as the Python manager asks: records of deeper namespaces are found too.
                namespacePath: namespace,
                searchCriteria: { searchQuery, topK: config.topK ?? DEFAULT_TOP_K },
              }),
            ),
          { operation: 'RetrieveMemoryRecords', what: 'search', log: request.log },
        )) as RetrieveMemoryRecordsCommandOutput
        const threshold = config.relevanceScore ?? DEFAULT_RELEVANCE_SCORE
        return (output.memoryRecordSummaries ?? [])
          .filter((record) => (record.score ?? 0) >= threshold)
          .map((record) => record.content?.text?.trim() ?? '')
          .filter((text) => text !== '')
      } catch (error) {
        request.log(
          `operation=RetrieveMemoryRecords namespace=${namespace} error=${errorName(error)} | context left out`,
        )
        return []
      }
    }),
  )
  return perNamespace.flat()
}

/** Settings of {@link TurnContext}. */
export interface TurnContextConfig {
  readonly client: MemoryDataClient
  readonly memoryId: string
  readonly actorId: string
  readonly sessionId: string
  /** Namespaces to search, by template. */
  readonly namespaces: Readonly<Record<string, RetrievalConfig>>
  /** Tag wrapping the records in the user's message (`user_context`). */
  readonly tag: string
  readonly retry: RetryPolicy
  readonly log: (line: string) => void
}

/**
 * The long-term context of the current turn: searched with the prompt's text, put in front of
 * that prompt in the model's view of the history, never stored.
 */
export class TurnContext {
  readonly #config: TurnContextConfig
  #context: { trackingId: string; text: string } | undefined

  constructor(config: TurnContextConfig) {
    this.#config = config
  }

  /** Searches long-term memory with the prompt's text. */
  async retrieve(prompt: Message): Promise<void> {
    const query = prompt.content.find((block) => block.type === 'textBlock')?.text
    if (!query?.trim()) return
    const { client, memoryId, actorId, sessionId, namespaces, retry, log, tag } = this.#config
    const texts = await retrieveLongTermContext({
      client,
      memoryId,
      actorId,
      sessionId,
      namespaces,
      query,
      retry,
      log,
    })
    this.#context =
      texts.length > 0
        ? { trackingId: prompt.trackingId, text: `<${tag}>${texts.join('\n')}</${tag}>` }
        : undefined
  }

  /** The turn ended: its context is gone. */
  clear(): void {
    this.#context = undefined
  }

  /** `view` (the model's history) with the context in front of the prompt it was found for. */
  applyTo(view: Message[]): Message[] {
    const context = this.#context
    if (!context) return view
    let index = view.findIndex((message) => message.trackingId === context.trackingId)
    if (index === -1) index = view.findLastIndex((message) => message.role === 'user')
    const target = view[index]
    if (!target) return view
    const results = target.content.filter((block) => block.type === 'toolResultBlock')
    const others = target.content.filter((block) => block.type !== 'toolResultBlock')
    const content: ContentBlock[] = [...results, new TextBlock(context.text), ...others]
    view[index] = new Message({ role: target.role, content, trackingId: target.trackingId })
    return view
  }
}
