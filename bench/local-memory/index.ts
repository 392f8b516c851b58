/**
 * Local AgentCore service throughput: CreateEvent and ListEvents through the AWS SDK client vs raw
 * HTTP to the same server, in the same run. The ratio is what the SDK (signing, serde, middleware)
 * costs on top of the service itself. The service runs in its own process (as `npm start` runs it),
 * so client and server do not share one event loop.
 */
import { Agent, request } from 'node:http'
import {
  BedrockAgentCoreClient,
  CreateEventCommand,
  ListEventsCommand,
} from '@aws-sdk/client-bedrock-agentcore'
import { startLocalServiceProcess } from '../local-service-process.ts'

const quick = process.env.BENCH_QUICK === '1'
const EVENTS = quick ? 300 : 3000
const LISTS = quick ? 100 : 1000
const CONCURRENCY = 8

const service = await startLocalServiceProcess()
const client = new BedrockAgentCoreClient(service.clientConfig)
const memoryId = await service.createMemory('bench')

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY })
const url = new URL(service.url)

/** One raw REST-JSON call with a SigV4-shaped header (the service checks its shape, not its value). */
function rawPost(path: string, body: unknown): Promise<unknown> {
  const text = JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
          authorization:
            'AWS4-HMAC-SHA256 Credential=AKIDBENCH/20261123/us-east-1/bedrock-agentcore/aws4_request',
        },
      },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () => {
          if ((response.statusCode ?? 500) >= 300) reject(new Error(`HTTP ${response.statusCode}`))
          else resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
        })
      },
    )
    outgoing.on('error', reject)
    outgoing.end(text)
  })
}

const payload = (index: number) => [
  {
    conversational: {
      content: {
        text: `{"message":{"role":"user","content":[{"text":"message ${index}"}]},"message_id":${index}}`,
      },
      role: 'USER' as const,
    },
  },
]

/** Runs `count` calls with `concurrency` in flight; returns calls per second. */
async function measure(
  count: number,
  concurrency: number,
  call: (index: number) => Promise<unknown>,
): Promise<number> {
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await call(next++)
    }),
  )
  return count / ((performance.now() - started) / 1000)
}

const sdkCreate = (session: string) => (index: number) =>
  client.send(
    new CreateEventCommand({
      memoryId,
      actorId: 'bench',
      sessionId: session,
      eventTimestamp: new Date(),
      payload: payload(index),
    }),
  )
const rawCreate = (session: string) => (index: number) =>
  rawPost(`/memories/${memoryId}/events`, {
    actorId: 'bench',
    sessionId: session,
    eventTimestamp: Date.now() / 1000,
    payload: payload(index),
  })
const sdkList = (session: string) => () =>
  client.send(new ListEventsCommand({ memoryId, actorId: 'bench', sessionId: session, maxResults: 100 }))
const rawList = (session: string) => () =>
  rawPost(`/memories/${memoryId}/actor/bench/sessions/${session}`, { maxResults: 100 })

// Warm both paths so JIT and connection set-up are not measured.
await measure(50, 1, sdkCreate('warm'))
await measure(50, 1, rawCreate('warm'))

const rows: [string, number, number][] = []
for (const concurrency of [1, CONCURRENCY]) {
  // Alternate the order per concurrency level so neither path always runs on a warmer machine.
  const sdkFirst = concurrency === 1
  const runCreate = async (kind: 'sdk' | 'raw') =>
    measure(
      EVENTS,
      concurrency,
      kind === 'sdk' ? sdkCreate(`sdk-${concurrency}`) : rawCreate(`raw-${concurrency}`),
    )
  const createSdk = sdkFirst ? await runCreate('sdk') : 0
  const createRaw = await runCreate('raw')
  const createSdkLate = sdkFirst ? createSdk : await runCreate('sdk')
  rows.push([`CreateEvent, ${concurrency} in flight`, createSdkLate, createRaw])
  const listSdk = await measure(LISTS, concurrency, sdkList(`sdk-${concurrency}`))
  const listRaw = await measure(LISTS, concurrency, rawList(`raw-${concurrency}`))
  rows.push([`ListEvents (100 events/page), ${concurrency} in flight`, listSdk, listRaw])
}

console.log(
  `\nbench/local-memory: ${EVENTS} CreateEvent and ${LISTS} ListEvents calls per row, service in its own process, one run`,
)
console.log('| operation | SDK client calls/s | raw HTTP calls/s | SDK / raw |')
console.log('|---|---:|---:|---:|')
for (const [name, sdk, raw] of rows) {
  console.log(`| ${name} | ${sdk.toFixed(0)} | ${raw.toFixed(0)} | ${(sdk / raw).toFixed(2)} |`)
}

client.destroy()
agent.destroy()
await service.stop()
