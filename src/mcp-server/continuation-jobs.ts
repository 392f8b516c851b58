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
import { SigV4Invoker } from '../runtime-client/sigv4-invoker.ts'
import type { Logger } from '../shared/logger.ts'
import type { AfterEndKind } from './after-end-jobs.ts'
import type { LongRunningTool } from './long-running-tool.ts'
import { invokerWaker, wakeDelivery } from './wake-delivery.ts'
import { type ListRuntimes, wakeTarget } from './wake-target.ts'
import { noticeAfterWake, type WebhookConfig, webhookNotice } from './webhook-notice.ts'

/** What decides the continuation jobs. */
export interface ContinuationSettings {
  readonly tools: readonly LongRunningTool[]
  /**
   * The one agent runtime this process may wake (its ARN, or its name: see `wake-target.ts`);
   * without it, no task wakes anyone.
   */
  readonly wake?: { readonly runtime: string } | undefined
  /** Where a runtime name is looked up (the process's region). */
  readonly region?: string | undefined
  readonly webhook?: WebhookConfig | undefined
  readonly deliveryBaseDelayMs?: number | undefined
  readonly deliveryMaxDelayMs?: number | undefined
}

/** The wake kind (and the notice kind after it), or none when no runtime is to be woken. */
export function continuationKinds(
  settings: ContinuationSettings,
  parts: { readonly client: BedrockAgentCoreClient; readonly clock: () => number; readonly logger: Logger },
): AfterEndKind[] {
  if (settings.wake === undefined) return []
  // Wakes are signed like result writes: the process's own AWS identity (its role on AgentCore).
  const invoker = new SigV4Invoker({ client: parts.client })
  const runtimeArn = wakeTarget(settings.wake.runtime, () => controlPlaneList(settings.region))
  const waking = new Set(settings.tools.filter((tool) => tool.onEnd === 'wake').map((tool) => tool.name))
  const delays = {
    ...(settings.deliveryBaseDelayMs !== undefined && { baseDelayMs: settings.deliveryBaseDelayMs }),
    ...(settings.deliveryMaxDelayMs !== undefined && { maxDelayMs: settings.deliveryMaxDelayMs }),
  }
  const kinds = [
    wakeDelivery({
      waker: invokerWaker({
        runtimeArn,
        open: (invocation, signal) => invoker.open(invocation, signal),
        codeOf: (error) => invoker.failureOf(error).code,
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
