/**
 * The `longrun` command line (commander): the local stack, each service alone, and the client
 * commands that talk to a runtime, its MCP server and its memory. Reads `.env` when present.
 *
 * Start-up is kept light: the command definitions load only commander, and each command's work
 * (the AWS SDK, Strands, the MCP SDK, OpenTelemetry, BullMQ, ...) is imported when it runs, so
 * `longrun --help` answers at once.
 */
import { readFileSync } from 'node:fs'
import { Command } from 'commander'
import { chatCommand } from './chat-command.ts'
import { describeCliError } from './cli-errors.ts'
import { consoleCommand } from './console-command.ts'
import { devCommand } from './dev-command.ts'
import { invokeCommand } from './invoke-command.ts'
import { localCommand } from './local-command.ts'
import { memoryCommand } from './memory-command.ts'
import { mcpServerCommand, runtimeCommand, workerCommand } from './service-commands.ts'
import { tasksCommand } from './tasks-command.ts'

/** The package's version, from its package.json (two levels up from the sources, three from dist/). */
function packageVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as {
        name?: string
        version?: string
      }
      if (manifest.name === 'longrun' && manifest.version) return manifest.version
    } catch {
      // Not at this level.
    }
  }
  return 'unknown'
}

/** The whole command tree. */
export function buildProgram(): Command {
  return (
    new Command('longrun')
      .description('Run AI agents whose tools take hours, on AgentCore or on this machine.')
      .version(packageVersion())
      .showHelpAfterError()
      // `.env` is read before a command runs (not for --help, which reads nothing).
      .hook('preAction', async () => {
        const { loadDotEnvFile } = await import('../config.ts')
        loadDotEnvFile()
      })
      .addCommand(devCommand())
      .addCommand(invokeCommand())
      .addCommand(chatCommand())
      .addCommand(consoleCommand())
      .addCommand(tasksCommand())
      .addCommand(memoryCommand())
      .addCommand(localCommand())
      .addCommand(mcpServerCommand())
      .addCommand(workerCommand())
      .addCommand(runtimeCommand())
  )
}

/** Runs the command line; resolves with the process exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  try {
    // Usage errors and --help are answered by commander itself (exit codes 1 and 0).
    await buildProgram().parseAsync([...argv], { from: 'user' })
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (error) {
    console.error(`longrun: ${describeCliError(error)}`)
    return 1
  }
}

process.exitCode = await runCli(process.argv.slice(2))
