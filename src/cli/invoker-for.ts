/**
 * The invoker of a target: a bearer token when one is given (`--bearer-token`,
 * `AGENTCORE_BEARER_TOKEN`), SigV4 through the AWS SDK otherwise. Each is loaded only when used,
 * so a bearer call never loads the SDK.
 */
import type { CliTarget } from './cli-target.ts'
import type { RuntimeInvoker } from '../runtime-client/index.ts'

/** An invoker and what closes it (the SDK client it made). */
export interface TargetInvoker extends RuntimeInvoker {
  close(): void
}

export async function invokerFor(target: CliTarget): Promise<TargetInvoker> {
  if (target.bearerToken !== undefined) {
    const { agentCoreEndpointOf, BearerInvoker } = await import('../runtime-client/bearer-invoker.ts')
    const invoker = new BearerInvoker({
      endpoint: target.endpoint ?? agentCoreEndpointOf(target.region),
      token: target.bearerToken,
    })
    return Object.assign(invoker, { close: () => {} })
  }
  const [{ clientFor }, { SigV4Invoker }] = await Promise.all([
    import('./agentcore-client.ts'),
    import('../runtime-client/sigv4-invoker.ts'),
  ])
  const client = clientFor(target)
  return Object.assign(new SigV4Invoker({ client }), { close: () => client.destroy() })
}
