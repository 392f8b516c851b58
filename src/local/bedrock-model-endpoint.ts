/**
 * A local Bedrock Runtime model endpoint: Converse (JSON) and ConverseStream (AWS event stream,
 * framed by the Smithy event-stream codec the SDK itself decodes with), answering with the offline
 * demo model's decisions. The real `BedrockRuntimeClient` talks to it over HTTP/2 with only
 * `endpoint` changed, so `MODEL_PROVIDER=bedrock` runs and is tested with no AWS account.
 */
import type { ServerResponse } from 'node:http'
import { EventStreamCodec } from '@smithy/core/event-streams'
import { fromUtf8, toUtf8 } from '@smithy/core/serde'
import {
  decideDemoTurn,
  type DemoDecision,
  type DemoMessage,
  estimateTokens,
  textDeltas,
} from '../demo-model/index.ts'
import type { MessageData } from '@strands-agents/sdk'
import { validateConverseHistory } from '../memory/converse-history.ts'
import { AwsServiceError } from './errors.ts'
import { parseJsonObject, readBody } from './http-io.ts'
import { MAX_REQUEST_BODY_BYTES } from './limits.ts'
import type { JsonRoute, RawRoute } from './router.ts'

const codec = new EventStreamCodec(toUtf8, fromUtf8)

/** The Converse request fields the demo reads. */
interface ConverseRequest {
  readonly messages: DemoMessage[]
  readonly toolNames: string[]
}

/** Converse and ConverseStream at `/model/{modelId}/...`. */
export function bedrockModelRoutes(): [JsonRoute, RawRoute] {
  return [
    {
      kind: 'json',
      method: 'POST',
      path: '/model/{modelId}/converse',
      operation: 'Converse',
      writes: false,
      handle({ body }) {
        const request = converseRequest(body)
        const decision = decideDemoTurn(request.messages, request.toolNames)
        return {
          status: 200,
          body: {
            output: { message: { role: 'assistant', content: [contentOf(decision)] } },
            stopReason: stopReasonOf(decision),
            usage: usageOf(request, decision),
            metrics: { latencyMs: 0 },
          },
        }
      },
    },
    {
      kind: 'raw',
      method: 'POST',
      path: '/model/{modelId}/converse-stream',
      operation: 'ConverseStream',
      async handle(request, response, _params, requestId) {
        const converse = converseRequest(parseJsonObject(await readBody(request, MAX_REQUEST_BODY_BYTES)))
        const decision = decideDemoTurn(converse.messages, converse.toolNames)
        streamDecision(response, requestId, converse, decision)
      },
    },
  ]
}

function converseRequest(body: Record<string, unknown>): ConverseRequest {
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    throw new AwsServiceError('ValidationException', 'messages: must be a non-empty list', {
      fieldList: [{ name: 'messages', message: 'must be a non-empty list' }],
    })
  }
  // Bedrock refuses a history that breaks Converse's rules; so does this endpoint, so a test that
  // passes here would pass there.
  const [violation] = validateConverseHistory(body.messages as MessageData[])
  if (violation !== undefined) {
    const message = `messages[${violation.index}]: ${violation.reason}`
    throw new AwsServiceError('ValidationException', message, { fieldList: [{ name: 'messages', message }] })
  }
  const tools = (body.toolConfig as { tools?: { toolSpec?: { name?: unknown } }[] } | undefined)?.tools ?? []
  return {
    messages: body.messages as DemoMessage[],
    toolNames: tools.flatMap((tool) => (typeof tool.toolSpec?.name === 'string' ? [tool.toolSpec.name] : [])),
  }
}

function contentOf(decision: DemoDecision): Record<string, unknown> {
  return decision.kind === 'text'
    ? { text: decision.text }
    : { toolUse: { toolUseId: decision.toolUseId, name: decision.name, input: decision.input } }
}

function stopReasonOf(decision: DemoDecision): 'end_turn' | 'tool_use' {
  return decision.kind === 'text' ? 'end_turn' : 'tool_use'
}

function usageOf(request: ConverseRequest, decision: DemoDecision) {
  const inputTokens = estimateTokens(request.messages)
  const outputTokens = estimateTokens(contentOf(decision))
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens }
}

/** Writes the decision as ConverseStream events: start, one content block, stop, metadata. */
function streamDecision(
  response: ServerResponse,
  requestId: string,
  request: ConverseRequest,
  decision: DemoDecision,
): void {
  response.writeHead(200, {
    'content-type': 'application/vnd.amazon.eventstream',
    'x-amzn-requestid': requestId,
  })
  const send = (eventType: string, payload: unknown) => {
    response.write(
      codec.encode({
        headers: {
          ':event-type': { type: 'string', value: eventType },
          ':message-type': { type: 'string', value: 'event' },
          ':content-type': { type: 'string', value: 'application/json' },
        },
        body: fromUtf8(JSON.stringify(payload)),
      }),
    )
  }
  send('messageStart', { role: 'assistant' })
  if (decision.kind === 'text') {
    for (const text of textDeltas(decision.text))
      send('contentBlockDelta', { contentBlockIndex: 0, delta: { text } })
  } else {
    send('contentBlockStart', {
      contentBlockIndex: 0,
      start: { toolUse: { toolUseId: decision.toolUseId, name: decision.name } },
    })
    send('contentBlockDelta', {
      contentBlockIndex: 0,
      delta: { toolUse: { input: JSON.stringify(decision.input) } },
    })
  }
  send('contentBlockStop', { contentBlockIndex: 0 })
  send('messageStop', { stopReason: stopReasonOf(decision) })
  send('metadata', { usage: usageOf(request, decision), metrics: { latencyMs: 0 } })
  response.end()
}
