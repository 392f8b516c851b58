import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { type AddressInfo, createServer as createNetServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, before, describe, test } from 'node:test'
import { DockerIgnoreStrategy } from 'aws-cdk-lib'
import { Redis } from 'ioredis'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import {
  AGENT_MEMORY_ACTIONS,
  BUILD_CONTEXT,
  IMAGE_TARGETS,
  MCP_SERVER_MEMORY_ACTIONS,
} from '../../deploy/longrun-stack.ts'
import { AGENT_PORT, MCP_DATA_DIR, MCP_PATH, MCP_PORT } from '../../deploy/runtime-environment.ts'
import { NODE } from '../helpers/child-process.ts'
import { type CloudWatchReceiver, startCloudWatchReceiver } from '../helpers/cloudwatch-receiver.ts'
import {
  environmentOf,
  runtimeOf,
  synthesize,
  withSynthesized,
  workerEnvironmentOf,
} from '../helpers/deploy-stack.ts'
import { type BuiltImage, createBuilder, parseDockerfile } from '../helpers/dockerfile.ts'
import {
  type LocalAgentCoreFixture,
  listSessionEvents,
  startLocalAgentCore,
  TEST_CREDENTIALS,
  waitFor,
} from '../helpers/local-agentcore.ts'
import { connectClient, structured } from '../helpers/mcp-server.ts'
import { startTestRedis, type TestRedis } from '../helpers/redis.ts'
import {
  type FakeSecretsManager,
  startFakeSecretsManager,
  testSecretArn,
} from '../helpers/secrets-manager.ts'

/**
 * The images without a Docker engine: what the build context lets through, and each image started
 * from a directory built by following the Dockerfile (test/helpers/dockerfile.ts) with the
 * environment the stack sets, its tokens replaced by local stand-ins (the local AgentCore service,
 * a redis-server, a key set of the test's own), until /ping answers Healthy and the image's own
 * HEALTHCHECK passes; then one authenticated invocation through both. The worker image (no port)
 * takes a task from Redis beside an MCP server replica that runs none.
 */

const DOCKERFILE = parseDockerfile(readFileSync(join(BUILD_CONTEXT, 'Dockerfile'), 'utf8'))
const ISSUER = 'https://issuer.deploy.test'
const CLIENT_ID = 'deploy-test-client'
/** Redis's AUTH token, as the stack's secret holds it (REDIS_PASSWORD_SECRET_ARN names it). */
const REDIS_AUTH_TOKEN = 'AuthTokenOfLettersAndDigitsAsSecretsManagerGeneratesIt0123456789'
const REDIS_SECRET_ARN = testSecretArn('TaskStoreAuthToken')
/** The task worker's target (`longrun worker`, run by an ECS service beside the runtimes). */
const WORKER_TARGET = IMAGE_TARGETS.worker
/** The MCP server's wake client (Cognito client credentials) and its secret's ARN. */
const WAKE_CLIENT_ID = 'deploy-test-wake-client'
const WAKE_SECRET_ARN = testSecretArn('CallersWakeClientSecret')

const dockerIgnore = () =>
  new DockerIgnoreStrategy(
    BUILD_CONTEXT,
    readFileSync(join(BUILD_CONTEXT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#')),
  )

async function freePort(): Promise<number> {
  const server = createNetServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A started image: its process, the URL it printed (a worker: its name), and its log so far. */
interface RunningImage {
  readonly child: ChildProcess
  readonly url: string
  stderr(): string
}

/**
 * Runs the image's CMD in its WORKDIR with exactly `env` (nothing of this process's environment),
 * `node` being the project's Node 22 as in the image, and waits for the line it prints when ready:
 * its URL, or `ready` (a worker prints its name).
 */
async function startImage(
  image: BuiltImage,
  env: Record<string, string>,
  ready: RegExp = /^https?:\/\//,
): Promise<RunningImage> {
  const [program, ...args] = image.cmd
  assert.equal(program, 'node')
  const child = spawn(NODE, args, {
    cwd: join(image.root, image.workdir),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const exited = once(child, 'exit').then(() => {
    throw new Error(`${image.cmd.join(' ')} exited early: ${stderr}`)
  })
  const printed = new Promise<string>((resolve) =>
    lines.on('line', (line) => ready.test(line) && resolve(line)),
  )
  const url = await Promise.race([printed, exited])
  return { child, url, stderr: () => stderr }
}

async function stopImage(image: RunningImage | undefined): Promise<number | null> {
  if (image === undefined || image.child.exitCode !== null) return image?.child.exitCode ?? null
  const exited = once(image.child, 'exit') as Promise<[number | null]>
  image.child.kill('SIGTERM')
  return (await exited)[0]
}

/** The image's HEALTHCHECK command, run as Docker would (no shell), with the container's env. */
function healthcheck(image: BuiltImage, env: Record<string, string>): number | null {
  const [program, ...args] = image.healthcheck ?? []
  assert.equal(program, 'node')
  return spawnSync(NODE, args, { cwd: join(image.root, image.workdir), env, timeout: 10_000 }).status
}

/**
 * The stack's environment of one runtime, each CloudFormation value (a token until deploy) replaced
 * by its stand-in; a variable whose value is unknown until deploy and has no stand-in fails here.
 */
function resolved(
  environment: Record<string, unknown>,
  standIns: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).map(([name, value]) => {
      if (typeof value === 'string') return [name, value]
      const standIn = standIns[name]
      assert.ok(standIn !== undefined, `${name} is set at deploy time: give it a stand-in`)
      return [name, standIn]
    }),
  )
}

describe('the build context', () => {
  test('.dockerignore lets through the manifests and the sources only', () => {
    const ignore = dockerIgnore()
    const left = [
      '.git/HEAD',
      'node_modules/zod/package.json',
      'test/config.test.ts',
      'bench/run.ts',
      'cdk.out/manifest.json',
      'dist/src/cli/main.js',
      '.longrun/mcp-tasks.sqlite',
      'src/.longrun/mcp-tasks.sqlite',
      'src/tasks.sqlite-wal',
      '.env',
      'src/.env',
      'deploy/app.ts',
    ]
    for (const path of left) assert.ok(ignore.ignores(join(BUILD_CONTEXT, path)), `${path} stays out`)
    for (const path of [
      'package.json',
      'package-lock.json',
      'src/entrypoint.ts',
      'src/mcp-server-entrypoint.ts',
    ])
      assert.ok(!ignore.ignores(join(BUILD_CONTEXT, path)), `${path} goes in`)
  })

  test('the context CDK stages for each image is that and the Dockerfile', () => {
    // The local Docker's image assets (imageBuild=docker); CodeBuild's upload of the same context:
    // container-images.test.ts.
    withSynthesized(
      { imageBuild: 'docker' },
      ({ outdir, dockerImages }) => {
        assert.ok(Object.keys(dockerImages).length >= 2)
        for (const image of Object.values(dockerImages))
          assert.deepEqual(readdirSync(join(outdir, image.source.directory)).sort(), [
            '.dockerignore',
            'Dockerfile',
            'package-lock.json',
            'package.json',
            'src',
          ])
      },
      { staging: true },
    )
  })

  test('the base image is an exact Node release of at least 22.18, the one the project itself runs on', () => {
    const bases = DOCKERFILE.stages
      .map((stage) => stage.base)
      .filter((base) => !DOCKERFILE.stages.some((stage) => stage.name === base))
    assert.ok(bases.length > 0)
    const own = JSON.parse(
      readFileSync(new URL('../../node_modules/node/package.json', import.meta.url), 'utf8'),
    ) as {
      version: string
    }
    for (const base of bases) {
      const match = /^node:(\d+)\.(\d+)\.(\d+)-[a-z]+-slim$/.exec(base)
      assert.ok(match, `${base} names an exact release`)
      const [major, minor] = [Number(match[1]), Number(match[2])]
      assert.ok(major === 22 && minor >= 18, `${base} is 22.18 or later`)
      assert.equal(
        `${match[1]}.${match[2]}.${match[3]}`,
        own.version.replace(/^v/, ''),
        'the release the project runs on',
      )
    }
  })

  test('every stage is arm64, the images run unprivileged and expose the contract ports', () => {
    for (const stage of DOCKERFILE.stages)
      if (!DOCKERFILE.stages.some((each) => each.name === stage.base))
        assert.equal(stage.platform, 'linux/arm64')
    const targets = DOCKERFILE.stages.map((stage) => stage.name)
    assert.ok(targets.includes(IMAGE_TARGETS.agent) && targets.includes(IMAGE_TARGETS.mcpServer))
    assert.ok(targets.includes(WORKER_TARGET))
  })
})

describe('the images start with the environment the stack sets', () => {
  let outdir: string
  let agentImage: BuiltImage
  let mcpImage: BuiltImage
  let workerImage: BuiltImage
  let local: LocalAgentCoreFixture
  let redis: TestRedis
  let secrets: FakeSecretsManager
  let cloudwatch: CloudWatchReceiver
  let jwksServer: Server
  let jwksUrl: string
  let memoryId: string
  let sign: (subject: string) => Promise<string>
  const running: RunningImage[] = []

  before(async () => {
    outdir = mkdtempSync(join(tmpdir(), 'longrun-image-'))
    const build = createBuilder(DOCKERFILE, { context: BUILD_CONTEXT, outdir })
    agentImage = build(IMAGE_TARGETS.agent)
    mcpImage = build(IMAGE_TARGETS.mcpServer)
    workerImage = build(WORKER_TARGET)
    local = await startLocalAgentCore()
    memoryId = await local.createMemory('deployed_memory')
    // As ElastiCache with its AUTH token, which the MCP server reads from Secrets Manager at start.
    redis = await startTestRedis({ password: REDIS_AUTH_TOKEN })
    secrets = await startFakeSecretsManager({
      [REDIS_SECRET_ARN]: JSON.stringify({ password: REDIS_AUTH_TOKEN }),
      [WAKE_SECRET_ARN]: 'wake-client-secret',
    })
    cloudwatch = await startCloudWatchReceiver()
    const { publicKey, privateKey } = await generateKeyPair('ES256')
    const jwk = { ...(await exportJWK(publicKey)), kid: 'deploy-key', alg: 'ES256' }
    jwksServer = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ keys: [jwk] }))
    })
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve))
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`
    // A Cognito access token's shape: the app client in client_id, no aud, the user's id as subject.
    sign = (subject) =>
      new SignJWT({ token_use: 'access', client_id: CLIENT_ID, scope: 'aws.cognito.signin.user.admin' })
        .setProtectedHeader({ alg: 'ES256', kid: 'deploy-key' })
        .setSubject(subject)
        .setIssuer(ISSUER)
        .setExpirationTime('5m')
        .sign(privateKey)
  })

  after(async () => {
    for (const image of running) await stopImage(image)
    jwksServer?.close()
    await redis?.remove()
    await secrets?.close()
    await cloudwatch?.close()
    await local?.close()
    if (outdir !== undefined) rmSync(outdir, { recursive: true, force: true })
  })

  /** Stand-ins for what the stack only knows at deploy: the local service, Redis, the key set. */
  const standIns = (overrides: Record<string, string> = {}): Record<string, string> => ({
    AWS_REGION: 'us-east-1',
    MEMORY_ID: memoryId,
    RUNTIME_JWT_ISSUER: ISSUER,
    MCP_JWT_ISSUER: ISSUER,
    RUNTIME_JWKS_URL: jwksUrl,
    MCP_JWKS_URL: jwksUrl,
    // The callers' app client and the MCP server's wake client.
    RUNTIME_JWT_CLIENT_IDS: `${CLIENT_ID},${WAKE_CLIENT_ID}`,
    MCP_JWT_CLIENT_IDS: `${CLIENT_ID},${WAKE_CLIENT_ID}`,
    RUNTIME_JWT_WAKE_SUBJECTS: WAKE_CLIENT_ID,
    MCP_JWT_SERVICE_SUBJECTS: WAKE_CLIENT_ID,
    MCP_WAKE_TOKEN_URL: new URL('/oauth2/token', jwksUrl).href,
    MCP_WAKE_CLIENT_ID: WAKE_CLIENT_ID,
    MCP_WAKE_CLIENT_SECRET_ARN: WAKE_SECRET_ARN,
    // TLS (rediss://) is ElastiCache's; the test's redis-server speaks plain Redis.
    REDIS_URL: redis.url,
    REDIS_PASSWORD_SECRET_ARN: REDIS_SECRET_ARN,
    ...overrides,
  })
  /** What the container has beside the stack's variables, and what differs on this machine. */
  const onThisMachine = (): Record<string, string> => ({
    AGENTCORE_ENDPOINT: local.service.url,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    // The SDK's endpoint override: the real Secrets Manager client, the test's stand-in service.
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    // The queue depth metric goes to a stand-in too, never to CloudWatch.
    AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.url,
  })

  test('the MCP server image (redis backend), the worker image and the agent image serve one invocation', async () => {
    const synthesized = synthesize()
    let agentEnv: Record<string, unknown>
    let mcpEnv: Record<string, unknown>
    let workerEnv: Record<string, unknown>
    try {
      agentEnv = environmentOf(runtimeOf(synthesized.json, 'HTTP')[1])
      mcpEnv = environmentOf(runtimeOf(synthesized.json, 'MCP')[1])
      workerEnv = workerEnvironmentOf(synthesized.json)
    } finally {
      synthesized.remove()
    }
    // As deployed, the MCP microVMs take calls only; the worker service runs the tasks.
    assert.equal(mcpEnv.MCP_RUN_WORKER, 'false')
    // The image and the stack agree on the contract, and the data directory is the writable /tmp.
    assert.equal(mcpEnv.MCP_PORT, String(MCP_PORT))
    assert.equal(mcpImage.env.MCP_PORT, String(MCP_PORT))
    assert.deepEqual(mcpImage.exposed, [MCP_PORT])
    assert.equal(agentEnv.PORT, String(AGENT_PORT))
    assert.deepEqual(agentImage.exposed, [AGENT_PORT])
    assert.equal(mcpImage.env.LONGRUN_DATA_DIR, MCP_DATA_DIR)
    assert.ok(mcpImage.user !== undefined && mcpImage.user !== 'root' && agentImage.user === mcpImage.user)
    assert.ok(existsSync(join(mcpImage.root, mcpImage.workdir, 'node_modules', 'zod')))
    assert.ok(
      !existsSync(join(mcpImage.root, mcpImage.workdir, 'node_modules', 'typescript')),
      'no dev dependencies',
    )
    assert.ok(!existsSync(join(mcpImage.root, mcpImage.workdir, 'test')))

    const mcpPort = await freePort()
    const mcpContainerEnv = {
      ...mcpImage.env,
      ...resolved(mcpEnv, standIns()),
      ...onThisMachine(),
      MCP_PORT: String(mcpPort),
      LONGRUN_DATA_DIR: join(mcpImage.root, MCP_DATA_DIR),
    }
    const mcp = await startImage(mcpImage, mcpContainerEnv)
    running.push(mcp)
    assert.equal(new URL(mcp.url).pathname, MCP_PATH)
    const deployedWorker = await startImage(
      workerImage,
      {
        ...workerImage.env,
        ...resolved(workerEnv, standIns()),
        ...onThisMachine(),
        LONGRUN_DATA_DIR: join(workerImage.root, 'deployed', MCP_DATA_DIR),
        // No agent runtime here to wake (test/runtime/wake-identity.test.ts runs that path).
        MCP_WAKE_RUNTIME: 'off',
      },
      /^worker /,
    )
    running.push(deployedWorker)
    const mcpPing = (await (await fetch(`http://127.0.0.1:${mcpPort}/ping`)).json()) as { status: string }
    assert.equal(mcpPing.status, 'Healthy')
    assert.equal(healthcheck(mcpImage, mcpContainerEnv), 0)
    // The key set is the only way in: no token, no call.
    assert.equal((await fetch(`http://127.0.0.1:${mcpPort}${MCP_PATH}`, { method: 'POST' })).status, 401)

    const agentPort = await freePort()
    const agentContainerEnv = {
      ...agentImage.env,
      ...resolved(agentEnv, standIns({ MCP_SERVER_URL: `http://127.0.0.1:${mcpPort}${MCP_PATH}` })),
      ...onThisMachine(),
      PORT: String(agentPort),
      // The offline model in place of Bedrock; everything else as deployed.
      MODEL_PROVIDER: 'demo',
    }
    const agent = await startImage(agentImage, agentContainerEnv)
    running.push(agent)
    const agentPing = (await (await fetch(`http://127.0.0.1:${agentPort}/ping`)).json()) as { status: string }
    assert.equal(agentPing.status, 'Healthy')
    assert.equal(healthcheck(agentImage, agentContainerEnv), 0)

    // As AgentCore passes it on: the caller's token in Authorization, the session in its header.
    const sessionId = `deployed-image-${'0'.repeat(25)}`
    // From here on, every memory call counted is one of the two services'.
    local.service.faults.resetCounts()
    const response = await fetch(`http://127.0.0.1:${agentPort}/invocations`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await sign('alice')}`,
        'content-type': 'application/json',
        'x-amzn-bedrock-agentcore-runtime-session-id': sessionId,
      },
      body: JSON.stringify({ prompt: 'train a model called deployed for 2 epochs' }),
    })

    assert.equal(response.status, 200, agent.stderr())
    const answer = (await response.json()) as { tasks: { task_id: string }[] }
    const taskId = answer.tasks[0]?.task_id
    assert.ok(taskId, `a task was started: ${JSON.stringify(answer)}`)
    // Before this test reads memory itself: what the agent's turn sent (its restore and its writes).
    const sentByTurn = Object.keys(local.service.faults.counts())
    // The MCP server checked the same token, ran the task and wrote its result into alice's session.
    await waitFor(
      async () =>
        JSON.stringify(await listSessionEvents(local.data, memoryId, 'alice', sessionId)).includes(
          `${taskId} (tool model_training) completed`,
        ),
      20_000,
      'the task result in memory',
    )
    // What the two services sent AgentCore Memory is what their roles allow, nothing more.
    const allowed = new Set([...AGENT_MEMORY_ACTIONS, ...MCP_SERVER_MEMORY_ACTIONS])
    const sent = Object.keys(local.service.faults.counts())
    assert.ok(
      sentByTurn.includes('CreateEvent') && sentByTurn.includes('ListEvents'),
      `sent by the turn: ${sentByTurn.join(', ')}`,
    )
    for (const operation of sent)
      assert.ok(
        allowed.has(`bedrock-agentcore:${operation}`),
        `${operation} is sent, but no role may call it`,
      )
    assert.equal(
      (
        await fetch(`http://127.0.0.1:${agentPort}/invocations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: 'hello' }),
        })
      ).status,
      401,
    )

    assert.equal(await stopImage(agent), 0)
    assert.equal(await stopImage(deployedWorker), 0)
    assert.equal(await stopImage(mcp), 0)
  })

  test('the MCP server image with the sqlite backend keeps its tasks in the data directory', async () => {
    const synthesized = synthesize({ taskBackend: 'sqlite' })
    let mcpEnv: Record<string, unknown>
    try {
      mcpEnv = environmentOf(runtimeOf(synthesized.json, 'MCP')[1])
    } finally {
      synthesized.remove()
    }
    const port = await freePort()
    const dataDir = join(mcpImage.root, 'sqlite', MCP_DATA_DIR)
    const env = {
      ...mcpImage.env,
      ...resolved(mcpEnv, standIns()),
      ...onThisMachine(),
      MCP_PORT: String(port),
      LONGRUN_DATA_DIR: dataDir,
    }
    const mcp = await startImage(mcpImage, env)
    running.push(mcp)
    const ping = (await (await fetch(`http://127.0.0.1:${port}/ping`)).json()) as { status: string }
    assert.equal(ping.status, 'Healthy')
    assert.ok(existsSync(join(dataDir, 'mcp-tasks.sqlite')))
    assert.equal(await stopImage(mcp), 0)
  })

  test('the worker image takes a task from Redis and delivers its result, beside a replica that runs none', async () => {
    const synthesized = synthesize()
    let mcpEnv: Record<string, unknown>
    let stackWorkerEnv: Record<string, unknown>
    try {
      mcpEnv = environmentOf(runtimeOf(synthesized.json, 'MCP')[1])
      stackWorkerEnv = workerEnvironmentOf(synthesized.json)
    } finally {
      synthesized.remove()
    }
    // No port, so no HEALTHCHECK; the same unprivileged user and data directory as the MCP server.
    assert.deepEqual(workerImage.exposed, [])
    assert.equal(workerImage.healthcheck, undefined)
    assert.equal(workerImage.user, mcpImage.user)
    assert.equal(workerImage.env.LONGRUN_DATA_DIR, MCP_DATA_DIR)
    assert.ok(!existsSync(join(workerImage.root, workerImage.workdir, 'node_modules', 'typescript')))

    const port = await freePort()
    const replicaEnv = {
      ...mcpImage.env,
      ...resolved(mcpEnv, standIns()),
      ...onThisMachine(),
      MCP_PORT: String(port),
      LONGRUN_DATA_DIR: join(mcpImage.root, 'replica', MCP_DATA_DIR),
    }
    // A replica that only accepts calls, as deployed: the worker runs every task.
    assert.equal(mcpEnv.MCP_RUN_WORKER, 'false')
    const mcp = await startImage(mcpImage, replicaEnv)
    running.push(mcp)
    // The worker service's container environment, as the stack sets it.
    const workerEnv = {
      ...workerImage.env,
      ...resolved(stackWorkerEnv, standIns()),
      ...onThisMachine(),
      LONGRUN_DATA_DIR: join(workerImage.root, MCP_DATA_DIR),
      // No agent runtime here to wake: the task owes its result and nothing after it.
      MCP_WAKE_RUNTIME: 'off',
    }
    const worker = await startImage(workerImage, workerEnv, /^worker /)
    running.push(worker)

    const client = await connectClient(`http://127.0.0.1:${port}${MCP_PATH}`, {
      token: await sign('bob'),
      memory: { sessionId: `worker-image-${'0'.repeat(28)}`, memoryId, actorId: 'bob' },
    })
    let taskId: string
    try {
      taskId = structured(
        await client.callTool({
          name: 'start_model_training',
          arguments: { model_name: 'in-worker', epochs: 2 },
        }),
      ).task_id as string
    } finally {
      await client.close()
    }
    assert.ok(taskId)
    await waitFor(
      async () =>
        JSON.stringify(
          await listSessionEvents(local.data, memoryId, 'bob', `worker-image-${'0'.repeat(28)}`),
        ).includes(`${taskId} (tool model_training) completed`),
      20_000,
      'the task result in memory',
    )
    // The worker image's process ran it (the replica runs none).
    const peek = new Redis(redis.url, { password: REDIS_AUTH_TOKEN })
    try {
      const holder = await peek.hget(`longrun:task:${taskId}`, 'workerId')
      assert.equal(Number(holder?.split(':')[1]), worker.child.pid, worker.stderr())
    } finally {
      peek.disconnect()
    }

    assert.equal(await stopImage(worker), 0)
    // Its last word at SIGTERM: nothing is owed, in the namespace and deployment the stack names.
    assert.deepEqual(cloudwatch.data().at(-1), {
      namespace: mcpEnv.MCP_QUEUE_METRIC_NAMESPACE,
      metricName: 'TasksOwed',
      dimensions: { Deployment: mcpEnv.MCP_QUEUE_METRIC_DEPLOYMENT },
      value: 0,
      unit: 'Count',
    })
    assert.equal(await stopImage(mcp), 0)
  })
})
