/**
 * `longrun dev` (`npm start`): the whole local stack, wired together: the local AgentCore service
 * (Memory, control plane, invoke gateway, local model endpoints), the long-running MCP server
 * delivering into that memory, and the agent runtime, registered with the gateway so
 * `longrun invoke` (or boto3 pointed at the gateway) reaches it through InvokeAgentRuntime.
 *
 * This file holds its flags and help; the stack itself (dev-stack-runner.ts) is loaded only when it runs.
 */
import { Command, Option } from 'commander'
import { parseDuration, parsePort } from './option-parsers.ts'

/** The ARN the local runtime is registered under (any ARN reaches it too, through `*`). */
export const DEV_RUNTIME_ARN =
  'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/longrun_dev-0000000000'
/** A training epoch takes milliseconds; in the dev stack each is paced so a run can be watched. */
export const DEV_EPOCH_DELAY_MS = 1000

export interface DevOptions {
  port?: number
  mcpPort?: number
  runtimePort?: number
  consolePort?: number
  dataDir?: string
  epochDelayMs?: number
}

export function devCommand(): Command {
  return new Command('dev')
    .description(
      'start the local stack: AgentCore service (Memory, control plane, invoke gateway, local model endpoints), ' +
        'the long-running MCP server and the agent runtime, wired together (npm start)',
    )
    .option(
      '--port <n>',
      'local AgentCore service port (default AGENTCORE_LOCAL_PORT or 8090; 0 picks one)',
      (v) => parsePort(v, 'port'),
    )
    .option('--mcp-port <n>', 'MCP server port (default MCP_PORT or 8000; 0 picks one)', (v) =>
      parsePort(v, 'mcp-port'),
    )
    .option('--runtime-port <n>', 'agent runtime port (default PORT or 8080; 0 picks one)', (v) =>
      parsePort(v, 'runtime-port'),
    )
    .option('--console-port <n>', 'developer console port (default CONSOLE_PORT or 8070; 0 picks one)', (v) =>
      parsePort(v, 'console-port'),
    )
    .option(
      '--data-dir <dir>',
      'where SQLite files and model artifacts live (default LONGRUN_DATA_DIR or .longrun)',
    )
    .addOption(
      new Option(
        '--epoch-delay-ms <n>',
        `pause after each training epoch, so a run can be watched (default MCP_TRAINING_EPOCH_DELAY_MS or ${DEV_EPOCH_DELAY_MS})`,
      ).argParser((v) => parseDuration(v, 'epoch-delay-ms')),
    )
    .addHelpText(
      'after',
      '\nThe model is MODEL_PROVIDER (default here: demo, the offline demo model). bedrock and openai point at the\n' +
        "local service's Converse and /v1/chat/completions endpoints unless BEDROCK_ENDPOINT / OPENAI_BASE_URL are set.\n" +
        "The MCP server's bearer token is MCP_BEARER_TOKEN, or a fresh random one.",
    )
    .action(async (options: DevOptions) => {
      const [{ runDev }, { loadEnvironment }] = await Promise.all([
        import('./dev-stack-runner.ts'),
        import('../config.ts'),
      ])
      await runDev(loadEnvironment(), options)
    })
}
