/**
 * InvokeAgentRuntime through the AWS SDK, signed with SigV4 (IAM callers, and the local gateway of
 * `longrun dev`): the command `longrun invoke`, `longrun chat` and the console send.
 */
import { type BedrockAgentCoreClient, InvokeAgentRuntimeCommand } from '@aws-sdk/client-bedrock-agentcore'
import { UnexpectedAnswerError } from './errors.ts'
import { invokeFailureOf } from './invoke-failure.ts'
import {
  invocationPayload,
  type InvokeFailure,
  type OpenedInvocation,
  type RuntimeInvocation,
  type RuntimeInvoker,
} from './runtime-invoker.ts'

/** The command for one invocation (a JSON payload, the stream asked for unless `json`). */
export function invocationCommand(invocation: RuntimeInvocation): InvokeAgentRuntimeCommand {
  return new InvokeAgentRuntimeCommand({
    agentRuntimeArn: invocation.runtimeArn,
    qualifier: 'DEFAULT',
    runtimeSessionId: invocation.sessionId,
    contentType: 'application/json',
    accept: invocation.json ? 'application/json' : 'text/event-stream',
    payload: new TextEncoder().encode(invocationPayload(invocation)),
  })
}

/** Invocations sent with an AWS SDK client (which its owner destroys). */
export class SigV4Invoker implements RuntimeInvoker {
  readonly #client: BedrockAgentCoreClient

  constructor(config: { readonly client: BedrockAgentCoreClient }) {
    this.#client = config.client
  }

  async open(invocation: RuntimeInvocation, signal?: AbortSignal): Promise<OpenedInvocation> {
    const output = await this.#client.send(
      invocationCommand(invocation),
      signal === undefined ? {} : { abortSignal: signal },
    )
    if (output.response === undefined) throw new UnexpectedAnswerError('the runtime sent no answer')
    return {
      contentType: output.contentType ?? '',
      body: output.response as AsyncIterable<Uint8Array>,
    }
  }

  failureOf(error: unknown): InvokeFailure {
    return invokeFailureOf(error)
  }
}
