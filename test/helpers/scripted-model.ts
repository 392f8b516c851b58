import {
  type BaseModelConfig,
  type Message,
  type MessageData,
  Model,
  type ModelStreamEvent,
} from '@strands-agents/sdk'

/** One reply of the scripted model: text, one or more tool calls, optionally an input redaction. */
export interface ScriptedTurn {
  readonly text?: string
  readonly toolUses?: readonly { name: string; toolUseId: string; input: unknown }[]
  /** Makes the model report that a guardrail replaced the user's input with this text. */
  readonly redactInput?: string
}

/** One step of the script: a reply, or a function of the history that returns one (possibly later). */
export type ScriptStep = ScriptedTurn | ((messages: MessageData[]) => ScriptedTurn | Promise<ScriptedTurn>)

/**
 * A Strands model that answers from a script and records what it was sent, so tests can assert
 * exactly which history reached the model. A turn may be a function of the messages it receives.
 */
export class ScriptedModel extends Model<BaseModelConfig> {
  readonly calls: MessageData[][] = []
  private readonly turns: ScriptStep[]
  private config: BaseModelConfig = { modelId: 'scripted' }

  constructor(turns: ScriptStep[] = []) {
    super()
    this.turns = [...turns]
  }

  updateConfig(config: BaseModelConfig): void {
    this.config = { ...this.config, ...config }
  }

  getConfig(): BaseModelConfig {
    return this.config
  }

  /** Adds replies to the end of the script. */
  push(...turns: ScriptStep[]): void {
    this.turns.push(...turns)
  }

  async *stream(messages: Message[]): AsyncIterable<ModelStreamEvent> {
    const seen = messages.map((message) => message.toJSON())
    this.calls.push(seen)
    const next = this.turns.shift() ?? { text: 'ok' }
    // A function step may wait (for a test to release it) before answering: a slow model call.
    const turn = typeof next === 'function' ? await next(seen) : next
    yield { type: 'modelMessageStartEvent', role: 'assistant' } as ModelStreamEvent
    if (turn.text !== undefined) {
      yield { type: 'modelContentBlockStartEvent' } as ModelStreamEvent
      yield {
        type: 'modelContentBlockDeltaEvent',
        delta: { type: 'textDelta', text: turn.text },
      } as ModelStreamEvent
      yield { type: 'modelContentBlockStopEvent' } as ModelStreamEvent
    }
    for (const toolUse of turn.toolUses ?? []) {
      yield {
        type: 'modelContentBlockStartEvent',
        start: { type: 'toolUseStart', name: toolUse.name, toolUseId: toolUse.toolUseId },
      } as ModelStreamEvent
      yield {
        type: 'modelContentBlockDeltaEvent',
        delta: { type: 'toolUseInputDelta', input: JSON.stringify(toolUse.input) },
      } as ModelStreamEvent
      yield { type: 'modelContentBlockStopEvent' } as ModelStreamEvent
    }
    const stopReason = turn.toolUses && turn.toolUses.length > 0 ? 'toolUse' : 'endTurn'
    yield { type: 'modelMessageStopEvent', stopReason } as ModelStreamEvent
    if (turn.redactInput !== undefined) {
      yield {
        type: 'modelRedactionEvent',
        inputRedaction: { replaceContent: turn.redactInput },
      } as ModelStreamEvent
    }
  }
}

/** A turn that calls one tool (`input` defaults to no arguments). */
export function toolUseTurn(name: string, toolUseId: string, input: unknown = {}): ScriptedTurn {
  return { toolUses: [{ name, toolUseId, input }] }
}

/** Every text the model was sent in one call, in order (text blocks and text inside tool results). */
export function textsOf(call: readonly MessageData[] | undefined): string[] {
  return (call ?? []).flatMap((message) =>
    message.content.flatMap((block) => {
      if ('text' in block) return [block.text]
      if ('toolResult' in block)
        return block.toolResult.content.flatMap((item) => ('text' in item ? [item.text] : []))
      return []
    }),
  )
}

/** The texts of a message's text blocks, joined, for short assertions. */
export function textOf(message: MessageData | undefined): string {
  if (!message) return ''
  return message.content
    .flatMap((block) => ('text' in block && typeof block.text === 'string' ? [block.text] : []))
    .join('|')
}
