/**
 * `longrun chat`: its flags and help. The conversation itself (chat-session.ts) is loaded only when
 * the command runs.
 */
import { Command } from 'commander'
import { type ConversationFlags, withConversationOptions } from './conversation-options.ts'

export function chatCommand(): Command {
  return withConversationOptions(new Command('chat'))
    .description(
      'chat with the agent runtime in this terminal (the local stack, or a deployed runtime with --arn): ' +
        'streamed answers, a progress bar per running tool, task ids, and, at the prompt, the task results that ' +
        'arrive and what the agent does about them on its own ("while you were away")',
    )
    .addHelpText(
      'after',
      '\nCtrl-C while an answer is written stops watching it: the turn goes on in the runtime and its answer is\n' +
        'stored in the session. Ctrl-C at the prompt exits (so does Ctrl-D).',
    )
    .action(async (options: ConversationFlags) => {
      const { runChat } = await import('./chat-session.ts')
      process.exitCode = await runChat(options)
    })
}
