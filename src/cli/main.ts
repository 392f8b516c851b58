import { ConfigError, loadEnvironment } from '../config.ts'
import { main as runMcpServer } from '../mcp-server/index.ts'
import { DEV_HELP, runDevCommand } from './dev-command.ts'
import { LOCAL_HELP, runLocalCommand } from './local-command.ts'

const HELP = `Usage: longrun <command> [options]

Commands:
  dev          start the local stack: AgentCore service + long-running MCP server (npm start)
  local        start the local AgentCore service only
  mcp-server   start the long-running MCP server only (configured by MCP_* variables)

Run "longrun <command> --help" for a command's options.`

const MCP_SERVER_HELP = `Usage: longrun mcp-server

Starts the long-running MCP server (Streamable HTTP at /mcp, port MCP_PORT or 8000) and prints its URL.
It needs MCP_BEARER_TOKEN, or MCP_JWT_ISSUER + MCP_JWT_AUDIENCE + MCP_JWKS_URL, or MCP_AUTH=none.
Every variable is listed in .env.example; SIGINT or SIGTERM stops it cleanly.`

/** Runs the `longrun` command line; resolves with the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  const wantsHelp = rest.includes('--help') || rest.includes('-h')
  try {
    switch (command) {
      case 'dev':
        if (wantsHelp) console.log(DEV_HELP)
        else await runDevCommand(rest, loadEnvironment())
        return 0
      case 'local':
        if (wantsHelp) console.log(LOCAL_HELP)
        else await runLocalCommand(rest, loadEnvironment())
        return 0
      case 'mcp-server':
        if (wantsHelp) console.log(MCP_SERVER_HELP)
        else {
          loadEnvironment()
          // The listening server keeps the process alive; its own signal handler closes it and exits.
          await runMcpServer(process.env)
        }
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
