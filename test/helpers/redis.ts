/**
 * A real Redis for the Redis backend's tests: a `redis-server` of the test's own on a free port,
 * persisting every write to an append-only file, so a test can stop it and start it again with
 * its data (what the fault tests need). Without redis-server the test fails, saying how to get it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'

/** A redis-server started by the test. */
export interface TestRedis {
  readonly url: string
  readonly port: number
  /** The password it requires (`requirepass`), when started with one. */
  readonly password: string | undefined
  /** Stops the server (its data stays in its append-only file). */
  stop(): Promise<void>
  /** Starts it again on the same port and data. */
  start(): Promise<void>
  /** Stops it for good and removes its data. */
  remove(): Promise<void>
}

const INSTALL_HINT =
  'the Redis backend tests need redis-server (Debian: apt-get install redis-server; it is on this machine kind by default)'

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/**
 * Starts a redis-server with append-only persistence (`appendfsync always`) in a temporary
 * directory; with `password`, it requires it (`requirepass`), as ElastiCache with an AUTH token.
 */
export async function startTestRedis(options: { password?: string } = {}): Promise<TestRedis> {
  const { password } = options
  if (spawnSync('redis-server', ['--version']).error !== undefined) throw new Error(INSTALL_HINT)
  const dir = await mkdtemp(join(tmpdir(), 'longrun-redis-'))
  const port = await freePort()
  const url = `redis://127.0.0.1:${port}`
  let child: ChildProcess | undefined
  const start = async () => {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        ...(password === undefined ? [] : ['--requirepass', password]),
      ],
      { stdio: 'ignore' },
    )
    const probe = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      ...(password !== undefined && { password }),
    })
    probe.on('error', () => {})
    const deadline = Date.now() + 10_000
    for (;;) {
      try {
        await probe.connect()
        // Loading the append-only file: PING answers LOADING until it is done.
        if ((await probe.ping()) === 'PONG') break
      } catch {
        if (Date.now() > deadline)
          throw new Error(`redis-server on port ${port} did not start: ${INSTALL_HINT}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
    probe.disconnect()
  }
  const stop = async () => {
    const running = child
    if (running === undefined || running.exitCode !== null) return
    const exited = new Promise((resolve) => running.once('exit', resolve))
    running.kill('SIGTERM')
    await exited
  }
  await start()
  return {
    url,
    port,
    password,
    stop,
    start,
    remove: async () => {
      await stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
