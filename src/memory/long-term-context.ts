/**
 * Long-term memory for one user turn: the records AgentCore extracted from past sessions that
 * match what the user just said, per configured namespace, as one text block for the model.
 */
import {
  RetrieveMemoryRecordsCommand,
  type RetrieveMemoryRecordsCommandOutput,
} from '@aws-sdk/client-bedrock-agentcore'
import { errorName } from './errors.ts'
import type { MemoryDataClient } from './event-writer.ts'
import { MEMORY_LIMITS } from './limits.ts'
import { type RetryPolicy, withRetry } from './retry.ts'

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
