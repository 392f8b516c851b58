/**
 * `longrun invoke "prompt"`: its flags and help. The work (invoke-action.ts) is loaded only when
 * the command runs, so `--help` stays fast.
 */
import { Command } from 'commander'
import { type ConversationFlags, withConversationOptions } from './conversation-options.ts'

/** The flags of `longrun invoke`. */
export interface InvokeOptions extends ConversationFlags {
  readonly json?: boolean | undefined
  /** `<interruptId>=<answer>`, one per question the session's paused turn asked. */
  readonly answer?: string[] | undefined
}

/** Collects repeated `--answer` flags. */
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

export function invokeCommand(): Command {
  return withConversationOptions(new Command('invoke'))
    .description(
      'invoke the agent runtime through InvokeAgentRuntime (the local stack of `npm start`, or a deployed runtime ' +
        'with --arn / AGENT_RUNTIME_ARN), streaming the answer; the next invoke continues the same session',
    )
    .argument('[prompt]', 'what to ask the agent (none when --answer answers a paused turn)')
    .option('--memory <id>', "memory id (default: the runtime's MEMORY_ID)")
    .option('--json', 'ask for the JSON answer instead of a stream, and print it')
    .option(
      '--answer <interruptId=answer>',
      'answer a question the paused turn asked (JSON or text; yes approves); repeat for each question',
      collect,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  longrun invoke "train a model called fraud-v1 for 30 epochs"\n  longrun invoke "what happened to my training?"' +
        "\n  longrun invoke --answer 'hook:beforeToolCall:tooluse_1:approval=yes'   (answer a paused turn)" +
        '\n  AGENTCORE_BEARER_TOKEN=$TOKEN longrun invoke --arn $AGENT_RUNTIME_ARN "list my tasks"   (a JWT runtime)',
    )
    .action(async (prompt: string | undefined, options: InvokeOptions) => {
      const { runInvoke } = await import('./invoke-action.ts')
      process.exitCode = await runInvoke(prompt, options)
    })
}
