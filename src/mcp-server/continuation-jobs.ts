/**
 * The after-end jobs of continuations, for the server and the Redis worker alike: when the
 * deployment names an agent runtime to wake, a task of a tool with `onEnd: 'wake'` owes that
 * runtime's session a wake once its result is in memory, and, when a webhook is configured, a
 * notice once the wake answered.
 */
import type { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore'
import {
  BedrockAgentCoreControlClient,
  ListAgentRuntimesCommand,
} from '@aws-sdk/client-bedrock-agentcore-control'
import {
  agentCoreEndpointOf,
  BEARER_TOKEN_REFUSED,
  BearerInvoker,
  invokeFailureOf,
} from '../runtime-client/index.ts'
import { SigV4Invoker } from '../runtime-client/sigv4-invoker.ts'
import type { Logger } from '../shared/logger.ts'
import type { AfterEndKind } from './after-end-jobs.ts'
import type { LongRunningTool } from './long-running-tool.ts'
import { MCP_SERVER_DEFAULTS } from './server-defaults.ts'
import { invokerWaker, wakeDelivery } from './wake-delivery.ts'
import { clientCredentialsTokens, type WakeClientCredentials } from './wake-token.ts'
import { type ListRuntimes, wakeTarget } from './wake-target.ts'
import { noticeAfterWake, type WebhookConfig, webhookKeyOf, webhookNotice } from './webhook-notice.ts'

/** What decides the continuation jobs. */
export interface ContinuationSettings {
  readonly tools: readonly LongRunningTool[]
  /**
   * The one agent runtime this process may wake (its ARN, or its name: see `wake-target.ts`);
   * without it, no task wakes anyone.
   */
  readonly wake?:
    | {
        readonly runtime: string
        /**
         * The client wakes are sent as, for a runtime behind a JWT authorizer (bearer tokens only);
         * without it they are signed with SigV4, as the process's own AWS identity.
         */
        readonly clientCredentials?: WakeClientCredentials | undefined
      }
    | undefined
  /** Where a runtime name is looked up (the process's region). */
  readonly region?: string | undefined
  /** The AgentCore data plane a bearer wake goes to (the local service); default: the region's. */
  readonly agentCoreEndpoint?: string | undefined
  readonly webhook?: WebhookConfig | undefined
  readonly deliveryBaseDelayMs?: number | undefined
  readonly deliveryMaxDelayMs?: number | undefined
}

/** The wake kind (and the notice kind after it), or none when no runtime is to be woken. */
export function continuationKinds(
  settings: ContinuationSettings,
  parts: { readonly client: BedrockAgentCoreClient; readonly clock: () => number; readonly logger: Logger },
): AfterEndKind[] {
  // A webhook's secret is checked at start even when nothing is woken: a typo must not wait for a wake.
  if (settings.webhook !== undefined) webhookKeyOf(settings.webhook.secret)
  if (settings.wake === undefined) return []
  const invoker = wakeInvoker(settings, settings.wake.clientCredentials, parts.client)
  let lister: ListRuntimes | undefined
  const runtimeArn = wakeTarget(settings.wake.runtime, () => (lister ??= controlPlaneList(settings.region)))
  const waking = new Set(settings.tools.filter((tool) => tool.onEnd === 'wake').map((tool) => tool.name))
  const delays = {
    ...(settings.deliveryBaseDelayMs !== undefined && { baseDelayMs: settings.deliveryBaseDelayMs }),
    ...(settings.deliveryMaxDelayMs !== undefined && { maxDelayMs: settings.deliveryMaxDelayMs }),
  }
  const kinds = [
    wakeDelivery({
      waker: invokerWaker({
        runtimeArn,
        ...invoker,
      }),
      wakes: (tool) => waking.has(tool),
      ...(settings.webhook !== undefined && { then: noticeAfterWake }),
      ...delays,
      logger: parts.logger,
    }),
  ]
  if (settings.webhook !== undefined)
    kinds.push(webhookNotice({ ...settings.webhook, ...delays, clock: parts.clock, logger: parts.logger }))
  return kinds
}

/**
 * How a wake is sent: signed with SigV4 like the memory writes (the process's own AWS identity, its
 * role on AgentCore), or, for a JWT runtime, with the machine identity's access token.
 */
function wakeInvoker(
  settings: ContinuationSettings,
  credentials: WakeClientCredentials | undefined,
  client: BedrockAgentCoreClient,
): Pick<Parameters<typeof invokerWaker>[0], 'open' | 'codeOf'> {
  if (credentials === undefined) {
    const signed = new SigV4Invoker({ client })
    return {
      open: (invocation, signal) => signed.open(invocation, signal),
      codeOf: (error) => signed.failureOf(error).code,
    }
  }
  const tokens = clientCredentialsTokens(credentials)
  const endpoint =
    settings.agentCoreEndpoint ?? agentCoreEndpointOf(settings.region ?? MCP_SERVER_DEFAULTS.region)
  const bearer = (value: string) =>
    new BearerInvoker({ endpoint, token: { value, source: 'MCP_WAKE_CLIENT_ID' } })
  // Refused at start, not at the first wake: a bearer token goes over HTTPS only.
  bearer('checked')
  return {
    open: async (invocation, signal) => {
      const token = await tokens.get()
      const invoker = bearer(token)
      try {
        return await invoker.open(invocation, signal)
      } catch (error) {
        if (invoker.failureOf(error).code === BEARER_TOKEN_REFUSED) tokens.refused(token)
        throw error
      }
    },
    codeOf: (error) => invokeFailureOf(error, { bearer: 'MCP_WAKE_CLIENT_ID' }).code,
  }
}

/** ListAgentRuntimes of the process's region, for a runtime named by name. */
function controlPlaneList(region: string | undefined): ListRuntimes {
  const client = new BedrockAgentCoreControlClient({ ...(region !== undefined && { region }) })
  return async (nextToken) => {
    const page = await client.send(
      new ListAgentRuntimesCommand({ ...(nextToken !== undefined && { nextToken }) }),
    )
    return {
      runtimes: (page.agentRuntimes ?? []).flatMap((runtime) =>
        runtime.agentRuntimeName !== undefined && runtime.agentRuntimeArn !== undefined
          ? [{ name: runtime.agentRuntimeName, arn: runtime.agentRuntimeArn }]
          : [],
      ),
      nextToken: page.nextToken,
    }
  }
}
