/**
 * The demo model as a Strands `Model` (MODEL_PROVIDER=demo): the decisions of {@link decideDemoTurn}
 * streamed as model events, word by word, so the whole system runs and is tested with no model access.
 */
import {
  type BaseModelConfig,
  type Message,
  Model,
  type ModelStreamEvent,
  type StreamOptions,
} from '@strands-agents/sdk'
import { decideDemoTurn, type DemoDecision, type DemoMessage, textDeltas } from './demo-policy.ts'

/** The model id the demo reports. */
export const DEMO_MODEL_ID = 'longrun-demo'

/** A deterministic offline model; every answer it gives starts with `[demo model]`. */
export class DemoModel extends Model<BaseModelConfig> {
  #config: BaseModelConfig = { modelId: DEMO_MODEL_ID }

  updateConfig(config: BaseModelConfig): void {
    this.#config = { ...this.#config, ...config }
  }

  getConfig(): BaseModelConfig {
    return this.#config
  }

  async *stream(messages: Message[], options?: StreamOptions): AsyncIterable<ModelStreamEvent> {
    const decision = decideDemoTurn(
      messages.map((message) => message.toJSON() as DemoMessage),
      (options?.toolSpecs ?? []).map((spec) => spec.name),
    )
    for (const event of demoStreamEvents(decision)) {
      options?.cancelSignal?.throwIfAborted()
      yield event
    }
  }
}

/** The model events of one decision: a text answer in word-sized deltas, or one tool call. */
function* demoStreamEvents(decision: DemoDecision): Generator<ModelStreamEvent> {
  yield { type: 'modelMessageStartEvent', role: 'assistant' } as ModelStreamEvent
  if (decision.kind === 'text') {
    yield { type: 'modelContentBlockStartEvent' } as ModelStreamEvent
    for (const piece of textDeltas(decision.text)) {
      yield {
        type: 'modelContentBlockDeltaEvent',
        delta: { type: 'textDelta', text: piece },
      } as ModelStreamEvent
    }
    yield { type: 'modelContentBlockStopEvent' } as ModelStreamEvent
    yield { type: 'modelMessageStopEvent', stopReason: 'endTurn' } as ModelStreamEvent
    return
  }
  yield {
    type: 'modelContentBlockStartEvent',
    start: { type: 'toolUseStart', name: decision.name, toolUseId: decision.toolUseId },
  } as ModelStreamEvent
  yield {
    type: 'modelContentBlockDeltaEvent',
    delta: { type: 'toolUseInputDelta', input: JSON.stringify(decision.input) },
  } as ModelStreamEvent
  yield { type: 'modelContentBlockStopEvent' } as ModelStreamEvent
  yield { type: 'modelMessageStopEvent', stopReason: 'toolUse' } as ModelStreamEvent
}
