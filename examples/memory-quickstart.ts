/**
 * CreateMemory with the control-plane client, then CreateEvent and ListEvents with the data-plane
 * client. Against AWS, leave AGENTCORE_ENDPOINT unset; locally, set it to the local service's URL:
 *
 *   npm start                      # in one terminal
 *   AGENTCORE_ENDPOINT=http://127.0.0.1:8090 npx node examples/memory-quickstart.ts
 *
 * (`npx node` runs the project's own Node 22, whatever Node the machine has.)
 */
import {
  BedrockAgentCoreClient,
  CreateEventCommand,
  ListEventsCommand,
} from '@aws-sdk/client-bedrock-agentcore'
import { BedrockAgentCoreControlClient, CreateMemoryCommand } from '@aws-sdk/client-bedrock-agentcore-control'
import { loadEnvironment } from '../src/config.ts'

// AWS_REGION defaults to us-east-1; a malformed AGENTCORE_ENDPOINT fails here, naming the variable.
const { AGENTCORE_ENDPOINT: endpoint, AWS_REGION: region } = loadEnvironment()
const config = {
  region,
  ...(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
}

const control = new BedrockAgentCoreControlClient(config)
const data = new BedrockAgentCoreClient(config)

const { memory } = await control.send(
  new CreateMemoryCommand({ name: `quickstart_${Date.now()}`, eventExpiryDuration: 30 }),
)
const memoryId = memory?.id as string
console.log(`memory ${memoryId} is ${memory?.status}`)

for (const [role, text] of [
  ['USER', 'Train a classifier on my data set'],
  ['ASSISTANT', 'Started training; I will report back.'],
] as const) {
  await data.send(
    new CreateEventCommand({
      memoryId,
      actorId: 'alice',
      sessionId: 'quickstart',
      eventTimestamp: new Date(),
      payload: [{ conversational: { role, content: { text } } }],
    }),
  )
}

const { events } = await data.send(
  new ListEventsCommand({ memoryId, actorId: 'alice', sessionId: 'quickstart' }),
)
for (const event of (events ?? []).reverse()) {
  const item = event.payload?.[0]
  if (item && 'conversational' in item)
    console.log(`${item.conversational?.role}: ${item.conversational?.content?.text}`)
}
control.destroy()
data.destroy()
