/**
 * What the Host/Origin check (BrowserGuard) costs each request of the runtime and the local
 * service: its time per call (an SDK request, which sends no Origin, and a browser request, which
 * does), and the throughput of one HTTP server with the check against the same server without it,
 * side by side in one run.
 */
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { BrowserGuard } from '../../src/shared/browser-guard.ts'

const quick = process.env.BENCH_QUICK === '1'
const CALLS = quick ? 200_000 : 2_000_000
const REQUESTS = quick ? 2_000 : 20_000
const CONCURRENCY = 8
const ROUNDS = 8

const guard = new BrowserGuard({ listenHost: '127.0.0.1' })
const socket = { localPort: 8080 }
const sdkRequest = { headers: { host: '127.0.0.1:8080', 'content-type': 'application/json' }, socket }
const browserRequest = {
  headers: { host: '127.0.0.1:8080', origin: 'http://attacker.test:3000', 'sec-fetch-site': 'cross-site' },
  socket,
}

function nsPerCall(subject: { headers: Record<string, string>; socket: { localPort: number } }): number {
  let refused = 0
  const started = process.hrtime.bigint()
  for (let i = 0; i < CALLS; i += 1) if (guard.check(subject) !== undefined) refused += 1
  const ns = Number(process.hrtime.bigint() - started) / CALLS
  // Kept observable, so the loop is not optimised away.
  if (refused !== 0 && refused !== CALLS) throw new Error('the guard changed its mind')
  return ns
}

nsPerCall(sdkRequest)
nsPerCall(browserRequest)
console.log(`BrowserGuard.check, SDK request (no Origin):   ${nsPerCall(sdkRequest).toFixed(0)} ns/call`)
console.log(`BrowserGuard.check, browser request (Origin):  ${nsPerCall(browserRequest).toFixed(0)} ns/call`)

const answer = (response: ServerResponse) => {
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 })
  response.end('{}')
}
async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  const server = createServer(handler)
  server.keepAliveTimeout = 65_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  server.unref()
  return (server.address() as AddressInfo).port
}
// Node builds `headers` on first use; every real handler reads them, so the baseline does too.
let hosts = 0
const plainPort = await listen((req, res) => {
  if (req.headers.host !== undefined) hosts += 1
  answer(res)
})
const guardedPort = await listen((req, res) => {
  if (guard.check(req) !== undefined) res.writeHead(403).end()
  else answer(res)
})

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY })
function get(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path: '/ping', agent }, (response) => {
      response.resume()
      response.on('end', () => (response.statusCode === 200 ? resolve() : reject(new Error('refused'))))
    })
    outgoing.on('error', reject)
    outgoing.end()
  })
}
async function perSecond(port: number, count: number): Promise<number> {
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < count) await get(port)
    }),
  )
  return count / ((performance.now() - started) / 1000)
}

await perSecond(plainPort, 500)
await perSecond(guardedPort, 500)
const rounds = { plain: [] as number[], guarded: [] as number[] }
// Alternating rounds, so neither server always runs on a warmer or busier machine.
for (let round = 0; round < ROUNDS; round += 1) {
  const order = round % 2 === 0 ? (['plain', 'guarded'] as const) : (['guarded', 'plain'] as const)
  for (const kind of order)
    rounds[kind].push(await perSecond(kind === 'plain' ? plainPort : guardedPort, REQUESTS / ROUNDS))
}
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number
const plain = median(rounds.plain)
const guarded = median(rounds.guarded)
console.log(`HTTP/1.1 keep-alive, ${CONCURRENCY} in flight, median of ${ROUNDS} rounds:`)
console.log(`  without the check: ${plain.toFixed(0)} req/s`)
console.log(`  with the check:    ${guarded.toFixed(0)} req/s`)
console.log(`  ratio (with / without): ${(guarded / plain).toFixed(3)}`)
if (hosts === 0) throw new Error('the baseline server answered nothing')
agent.destroy()
