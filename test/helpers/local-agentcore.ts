import {
  BatchCreateMemoryRecordsCommand,
  type BatchCreateMemoryRecordsCommandOutput,
  BedrockAgentCoreClient,
  type Event,
} from '@aws-sdk/client-bedrock-agentcore'
import { BedrockAgentCoreControlClient, CreateMemoryCommand } from '@aws-sdk/client-bedrock-agentcore-control'
import { type LocalAgentCoreConfig, LocalAgentCoreService } from '../../src/local/index.ts'
import { listSessionEvents as listEventsOldestFirst } from '../../src/memory/index.ts'

/** Static test credentials: the local service checks the signature's shape, not its value. */
export const TEST_CREDENTIALS = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' }

export interface LocalAgentCoreFixture extends AsyncDisposable {
  /** Stops the clients and the service (Node 22 has no `await using`; call this in `after`). */
  close(): Promise<void>
  readonly service: LocalAgentCoreService
  readonly data: BedrockAgentCoreClient
  readonly control: BedrockAgentCoreControlClient
  readonly clientConfig: {
    endpoint: string
    region: string
    credentials: typeof TEST_CREDENTIALS
  }
  /** Creates a memory through the control-plane client and returns its id. */
  createMemory(name?: string): Promise<string>
  /**
   * Stores long-term records in one BatchCreateMemoryRecords call with the data client, each with
   * one namespace and the current time, and returns the service's answer.
   */
  seedRecords(
    memoryId: string,
    records: readonly SeedRecord[],
  ): Promise<BatchCreateMemoryRecordsCommandOutput>
}

/** One long-term record for {@link LocalAgentCoreFixture.seedRecords}: request id, namespace, text. */
export interface SeedRecord {
  readonly id: string
  readonly namespace: string
  readonly text: string
}

/** Starts the local AgentCore service on port 0 with real AWS SDK clients pointed at it. */
export async function startLocalAgentCore(config: LocalAgentCoreConfig = {}): Promise<LocalAgentCoreFixture> {
  const service = await LocalAgentCoreService.start({ port: 0, ...config })
  const clientConfig = { endpoint: service.url, region: 'us-east-1', credentials: TEST_CREDENTIALS }
  const data = new BedrockAgentCoreClient(clientConfig)
  const control = new BedrockAgentCoreControlClient(clientConfig)
  let counter = 0
  const fixture: LocalAgentCoreFixture = {
    service,
    data,
    control,
    clientConfig,
    async createMemory(name) {
      counter += 1
      const result = await control.send(
        new CreateMemoryCommand({ name: name ?? `test_memory_${counter}`, eventExpiryDuration: 30 }),
      )
      return result.memory?.id as string
    },
    seedRecords(memoryId, records) {
      return data.send(
        new BatchCreateMemoryRecordsCommand({
          memoryId,
          records: records.map(({ id, namespace, text }) => ({
            requestIdentifier: id,
            namespaces: [namespace],
            content: { text },
            timestamp: new Date(),
          })),
        }),
      )
    },
    async close() {
      data.destroy()
      control.destroy()
      await service.close()
    },
    async [Symbol.asyncDispose]() {
      await fixture.close()
    },
  }
  return fixture
}

/** Every event of one actor's session, oldest first, read page by page with `client`. */
export function listSessionEvents(
  client: BedrockAgentCoreClient,
  memoryId: string,
  actorId: string,
  sessionId: string,
): Promise<Event[]> {
  return listEventsOldestFirst(client, { memoryId, actorId, sessionId })
}

/**
 * Polls `check` until it gives something other than undefined or false (a value to return, or
 * true), or fails after `timeoutMs`: for conditions an asynchronous actor (a timer, a child
 * process, a delivery loop) will make true.
 */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${timeoutMs} ms)`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
