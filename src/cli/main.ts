import { ConfigError, loadEnvironment } from '../config.ts'
import { LOCAL_HELP, runLocalCommand } from './local-command.ts'

const HELP = `Usage: longrun <command> [options]

Commands:
  dev     start the development stack (for now: the local AgentCore service)
  local   start the local AgentCore service only

Run "longrun <command> --help" for a command's options.`

/** Runs the `longrun` command line; resolves with the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  try {
    const env = loadEnvironment()
    switch (command) {
      case 'dev':
      case 'local':
        if (rest.includes('--help') || rest.includes('-h')) {
          console.log(command === 'dev' ? LOCAL_HELP.replace('longrun local', 'longrun dev') : LOCAL_HELP)
          return 0
        }
        await runLocalCommand(rest, env)
        return 0
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        console.log(HELP)
        return command === undefined ? 1 : 0
      default:
        console.error(`longrun: unknown command "${command}"\n\n${HELP}`)
        return 2
    }
  } catch (error) {
    if (error instanceof ConfigError) console.error(`longrun: ${error.message}`)
    else console.error(`longrun: ${error instanceof Error ? error.message : String(error)}`)
    return 1
  }
}

process.exitCode = await runCli(process.argv.slice(2))
