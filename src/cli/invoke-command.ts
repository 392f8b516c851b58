/**
 * `longrun invoke "prompt"`: one invocation through the real InvokeAgentRuntime call (the local
 * gateway, or AgentCore on AWS with --arn), streamed as it happens, continuing the session of the
 * previous invoke unless told otherwise.
 */
import type { InvokeAgentRuntimeCommandOutput } from '@aws-sdk/client-bedrock-agentcore'
import { Command } from 'commander'
import { type Environment, loadEnvironment } from '../config.ts'
import { type InvocationAnswer, InvocationAnswerSchema, parseRuntimeStream } from '../runtime/index.ts'
import { UnexpectedAnswerError } from './cli-errors.ts'
import { clientFor } from './cli-target.ts'
import { InvocationDisplay } from './invocation-display.ts'
import { describeInvokeError, invocationCommand } from './runtime-invocation.ts'
import { rememberSession, resolveConversation, withConversationOptions } from './remembered-sessions.ts'

interface InvokeOptions {
  session?: string
  newSession?: boolean
  actor?: string
  memory?: string
  json?: boolean
  arn?: string
  endpoint?: string
  region?: string
}

export function invokeCommand(): Command {
  return withConversationOptions(new Command('invoke'))
    .description(
      'invoke the agent runtime through InvokeAgentRuntime (the local stack of `npm start`, or a deployed runtime ' +
        'with --arn / AGENT_RUNTIME_ARN), streaming the answer; the next invoke continues the same session',
    )
    .argument('<prompt>', 'what to ask the agent')
    .option('--memory <id>', "memory id (default: the runtime's MEMORY_ID)")
    .option('--json', 'ask for the JSON answer instead of a stream, and print it')
    .addHelpText(
      'after',
      '\nExamples:\n  longrun invoke "train a model called fraud-v1 for 30 epochs"\n  longrun invoke "what happened to my training?"',
    )
    .action(async (prompt: string, options: InvokeOptions) => {
      const code = await runInvoke(loadEnvironment(), prompt, options)
      process.exitCode = code
    })
}

/** Runs one invocation; resolves with the exit code (0 answered, 1 failed). */
async function runInvoke(env: Environment, prompt: string, options: InvokeOptions): Promise<number> {
  const { target, arn, key, sessionId, actorId } = await resolveConversation(env, options)
  const client = clientFor(target)
  try {
    const output = await client.send(
      invocationCommand({
        runtimeArn: arn,
        sessionId,
        prompt,
        actorId,
        memoryId: options.memory,
        json: options.json === true,
      }),
    )
    await rememberSession(env.LONGRUN_DATA_DIR, key, { sessionId, actorId })
    const answer = options.json ? await printJson(output) : await streamAnswer(output)
    if (answer === undefined) return 1
    process.stderr.write(`session: ${answer.session_id}\n`)
    for (const task of answer.tasks) process.stderr.write(`task:    ${task.task_id} (${task.tool})\n`)
    return 0
  } catch (error) {
    process.stderr.write(`longrun invoke: ${describeInvokeError(error)}\n`)
    return 1
  } finally {
    client.destroy()
  }
}

async function streamAnswer(output: InvokeAgentRuntimeCommandOutput): Promise<InvocationAnswer | undefined> {
  const body = output.response as AsyncIterable<Uint8Array> | undefined
  if (body === undefined) throw new UnexpectedAnswerError('the runtime sent no answer')
  if (!(output.contentType ?? '').includes('text/event-stream')) {
    // A runtime that answered JSON although a stream was asked for.
    return printJson(output)
  }
  const display = new InvocationDisplay({ out: process.stdout, err: process.stderr })
  let answer: InvocationAnswer | undefined
  try {
    for await (const event of parseRuntimeStream(body)) {
      display.show(event)
      if (event.type === 'done')
        answer = { response: event.response, session_id: event.session_id, tasks: event.tasks }
    }
  } finally {
    display.close()
  }
  if (answer === undefined) process.stderr.write('longrun invoke: the stream ended without an answer\n')
  return answer
}

async function printJson(output: InvokeAgentRuntimeCommandOutput): Promise<InvocationAnswer | undefined> {
  const text = (await output.response?.transformToString()) ?? ''
  process.stdout.write(`${text}\n`)
  const parsed = InvocationAnswerSchema.safeParse(JSON.parse(text))
  return parsed.success ? parsed.data : undefined
}
