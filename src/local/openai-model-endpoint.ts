/**
 * A local OpenAI-compatible Chat Completions endpoint (`POST /v1/chat/completions`, streamed as
 * server-sent chunks or answered as JSON), answering with the offline demo model's decisions, so
 * `MODEL_PROVIDER=openai` runs and is tested through the real `openai` client with no model server.
 */
import type { ServerResponse } from 'node:http'
import {
  decideDemoTurn,
  type DemoDecision,
  type DemoMessage,
  estimateTokens,
  textDeltas,
} from '../demo-model/index.ts'
import { isRecord } from '../shared/is-record.ts'
import { AwsServiceError } from './errors.ts'
import { parseJsonObject, readBody } from './http-io.ts'
import { MAX_REQUEST_BODY_BYTES } from './limits.ts'
import type { RawRoute } from './router.ts'

/** How Strands marks a failed tool result in the chat format. */
const ERROR_PREFIX = '[ERROR] '

type ContentItem = DemoMessage['content'][number]

/** `POST /v1/chat/completions`. */
export function openAiModelRoutes(): [RawRoute] {
  return [
    {
      kind: 'raw',
      method: 'POST',
      path: '/v1/chat/completions',
      operation: 'ChatCompletions',
      async handle(request, response, _params, requestId) {
        let body: Record<string, unknown>
        let messages: DemoMessage[]
        try {
          body = parseJsonObject(await readBody(request, MAX_REQUEST_BODY_BYTES))
          messages = demoMessagesOf(body.messages)
        } catch (error) {
          // An OpenAI client reads OpenAI's error shape; the service's other errors keep AWS's.
          if (!(error instanceof AwsServiceError)) throw error
          sendOpenAiError(response, error)
          return
        }
        const tools = Array.isArray(body.tools) ? body.tools : []
        const toolNames = tools.flatMap((tool) =>
          isRecord(tool) && isRecord(tool.function) && typeof tool.function.name === 'string'
            ? [tool.function.name]
            : [],
        )
        const decision = decideDemoTurn(messages, toolNames)
        const model = typeof body.model === 'string' ? body.model : 'longrun-demo'
        const id = `chatcmpl-${requestId}`
        const usage = usageOf(messages, decision)
        if (body.stream === true) {
          const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true
          streamCompletion(response, { id, model, decision, usage: includeUsage ? usage : undefined })
          return
        }
        const text = JSON.stringify({
          id,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model,
          choices: [
            {
              index: 0,
              message: assistantMessageOf(decision),
              finish_reason: finishReasonOf(decision),
              logprobs: null,
            },
          ],
          usage,
        })
        response.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
        })
        response.end(text)
      },
    },
  ]
}

function sendOpenAiError(response: ServerResponse, error: AwsServiceError): void {
  const text = JSON.stringify({
    error: {
      message: error.message,
      type: 'invalid_request_error',
      param: error.fieldList?.[0]?.name ?? null,
      code: error.code,
    },
  })
  response.writeHead(error.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  })
  response.end(text)
}

/** Chat messages as Converse-style messages: tool calls as toolUse, tool replies as toolResult. */
function demoMessagesOf(value: unknown): DemoMessage[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new AwsServiceError('ValidationException', 'messages: must be a non-empty list', {
      fieldList: [{ name: 'messages', message: 'must be a non-empty list' }],
    })
  }
  const messages: { role: 'user' | 'assistant'; content: ContentItem[] }[] = []
  const append = (role: 'user' | 'assistant', content: ContentItem[]) => {
    const last = messages.at(-1)
    if (last?.role === role) last.content.push(...content)
    else messages.push({ role, content })
  }
  for (const message of value) {
    if (!isRecord(message)) continue
    const text = textOf(message.content)
    // Each text part stays a block of its own: a task result and the prompt after it are two texts.
    if (message.role === 'user')
      append(
        'user',
        textParts(message.content).map((part) => ({ text: part })),
      )
    else if (message.role === 'tool') {
      const failed = text.startsWith(ERROR_PREFIX)
      append('user', [
        {
          toolResult: {
            toolUseId: String(message.tool_call_id),
            status: failed ? 'error' : 'success',
            content: [{ text: failed ? text.slice(ERROR_PREFIX.length) : text }],
          },
        },
      ])
    } else if (message.role === 'assistant') {
      const calls = Array.isArray(message.tool_calls) ? message.tool_calls.filter(isRecord) : []
      append('assistant', [
        ...(text !== '' ? [{ text }] : []),
        ...calls.map((call) => {
          const fn = isRecord(call.function) ? call.function : {}
          return {
            toolUse: {
              toolUseId: String(call.id),
              name: String(fn.name),
              input: parseArguments(fn.arguments),
            },
          }
        }),
      ])
    }
  }
  return messages
}

function textParts(content: unknown): string[] {
  if (typeof content === 'string') return [content]
  if (!Array.isArray(content)) return []
  return content.flatMap((part) => (isRecord(part) && typeof part.text === 'string' ? [part.text] : []))
}

function textOf(content: unknown): string {
  return textParts(content).join('\n')
}

function parseArguments(value: unknown): unknown {
  if (typeof value !== 'string') return {}
  try {
    return JSON.parse(value)
  } catch {
    return {}
  }
}

function assistantMessageOf(decision: DemoDecision): Record<string, unknown> {
  if (decision.kind === 'text') return { role: 'assistant', content: decision.text, refusal: null }
  return {
    role: 'assistant',
    content: null,
    refusal: null,
    tool_calls: [
      {
        id: decision.toolUseId,
        type: 'function',
        function: { name: decision.name, arguments: JSON.stringify(decision.input) },
      },
    ],
  }
}

function finishReasonOf(decision: DemoDecision): 'stop' | 'tool_calls' {
  return decision.kind === 'text' ? 'stop' : 'tool_calls'
}

function usageOf(messages: readonly DemoMessage[], decision: DemoDecision) {
  const prompt = estimateTokens(messages)
  const completion = estimateTokens(assistantMessageOf(decision))
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion }
}

/** Streams the decision as chunks: the role, the text or the tool call, the finish, usage, [DONE]. */
function streamCompletion(
  response: ServerResponse,
  answer: {
    id: string
    model: string
    decision: DemoDecision
    usage: ReturnType<typeof usageOf> | undefined
  },
): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  const created = Math.floor(Date.now() / 1000)
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    response.write(
      `data: ${JSON.stringify({ id: answer.id, object: 'chat.completion.chunk', created, model: answer.model, choices, ...extra })}\n\n`,
    )
  const delta = (value: Record<string, unknown>, finish: string | null = null) =>
    chunk([{ index: 0, delta: value, finish_reason: finish }])
  const { decision } = answer
  delta({ role: 'assistant', content: '' })
  if (decision.kind === 'text') {
    for (const text of textDeltas(decision.text)) delta({ content: text })
  } else {
    delta({
      tool_calls: [
        {
          index: 0,
          id: decision.toolUseId,
          type: 'function',
          function: { name: decision.name, arguments: '' },
        },
      ],
    })
    delta({ tool_calls: [{ index: 0, function: { arguments: JSON.stringify(decision.input) } }] })
  }
  delta({}, finishReasonOf(decision))
  if (answer.usage !== undefined) chunk([], { usage: answer.usage })
  response.write('data: [DONE]\n\n')
  response.end()
}
