/** The flags of the commands that converse with a runtime (`invoke`, `chat`): which session, actor and runtime, and how to sign. */
import type { Command } from 'commander'

/** The flags `invoke` and `chat` share, as commander parses them. */
export interface ConversationFlags {
  readonly session?: string | undefined
  readonly newSession?: boolean | undefined
  readonly actor?: string | undefined
  readonly arn?: string | undefined
  readonly endpoint?: string | undefined
  readonly region?: string | undefined
  readonly memory?: string | undefined
  readonly bearerToken?: string | undefined
}

/** Adds the flags `invoke` and `chat` share. */
export function withConversationOptions(command: Command): Command {
  return withSigningOptions(
    command
      .option(
        '--session <id>',
        'runtime session id to use (33-256 characters); default: the last one used here',
      )
      .option('--new-session', 'start a new session instead of continuing the last one')
      .option(
        '--actor <id>',
        'actor id (default: the session\'s, else "default"; ignored when the runtime authenticates callers)',
      ),
  )
}

/** Adds the flags that say which runtime to reach and how to sign (`invoke`, `chat`, `console`). */
export function withSigningOptions(command: Command): Command {
  return command
    .option('--arn <arn>', 'agent runtime ARN (default AGENT_RUNTIME_ARN, else the local stack)')
    .option(
      '--endpoint <url>',
      'AgentCore endpoint (default AGENTCORE_ENDPOINT, else the local stack, else AWS)',
    )
    .option('--region <region>', 'AWS region (default AWS_REGION)')
    .option(
      '--bearer-token <token>',
      'sign invocations with this bearer token (a runtime behind a JWT authorizer) instead of SigV4; ' +
        'default AGENTCORE_BEARER_TOKEN, which keeps it out of the process list',
    )
}
