/**
 * `longrun mcp-server`, `longrun worker` and `longrun runtime`: one service each, configured by the
 * environment. Each service's code is loaded only when its command runs.
 */
import { Command } from 'commander'

export function mcpServerCommand(): Command {
  return new Command('mcp-server')
    .description(
      'start the long-running MCP server only (Streamable HTTP at /mcp, port MCP_PORT or 8000) and print its URL; ' +
        'it needs MCP_BEARER_TOKEN, or MCP_JWT_ISSUER + MCP_JWKS_URL + MCP_JWT_AUDIENCE (or MCP_JWT_CLIENT_IDS), or MCP_AUTH=none',
    )
    .addHelpText('after', '\nEvery variable is listed in .env.example; SIGINT or SIGTERM stops it cleanly.')
    .action(async () => {
      // The listening server keeps the process alive; its own signal handler closes it and exits.
      const { main } = await import('../mcp-server-entrypoint.ts')
      await main()
    })
}

export function workerCommand(): Command {
  return new Command('worker')
    .description(
      'start a task worker of the Redis backend (MCP_TASK_BACKEND=redis, REDIS_URL): it runs background tasks ' +
        'and delivers their results into memory beside MCP server replicas; run as many as the work needs',
    )
    .addHelpText(
      'after',
      '\nEvery variable is listed in .env.example; SIGTERM stops it, returning running tasks to the queue.',
    )
    .action(async () => {
      const { workerMain } = await import('../mcp-server-entrypoint.ts')
      await workerMain()
    })
}

export function runtimeCommand(): Command {
  return new Command('runtime')
    .description(
      'start the agent runtime only (POST /invocations, GET /ping on PORT or 8080: the AgentCore Runtime entrypoint) ' +
        'and print its URL; it needs MODEL_PROVIDER and, for memory, MEMORY_ID or memory_id in each payload',
    )
    .addHelpText(
      'after',
      '\nEvery variable is listed in .env.example; SIGTERM drains it (RUNTIME_SHUTDOWN_GRACE_MS).',
    )
    .action(async () => {
      const { main } = await import('../entrypoint.ts')
      await main()
    })
}
