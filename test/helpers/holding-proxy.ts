/**
 * An HTTP proxy in front of an MCP server that forwards every request, except those whose body a
 * test picks: those are held (never forwarded) until the test drops them. It puts a tool call "in
 * flight" for as long as a test needs, e.g. to kill the runtime that made it.
 */
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface HoldingProxy {
  /** The proxy's URL: the target's, on the proxy's port. */
  readonly url: string
  /** Resolves once the first request is held. */
  readonly held: Promise<void>
  /** Requests held so far. */
  readonly heldCount: number
  /** Closes every held request's connection unanswered (the request never reached the target). */
  drop(): void
  close(): Promise<void>
}

/** Starts a proxy to `targetUrl` on a free port, holding each request for which `holds(body)` is true. */
export async function startHoldingProxy(
  targetUrl: string,
  holds: (body: string) => boolean,
): Promise<HoldingProxy> {
  const target = new URL(targetUrl)
  const held: ServerResponse[] = []
  let reached: () => void = () => {}
  const heldPromise = new Promise<void>((resolve) => {
    reached = resolve
  })
  const forward = (incoming: IncomingMessage, answer: ServerResponse, body: Buffer) => {
    const outgoing = request(
      {
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: target.host },
      },
      (upstream) => {
        answer.writeHead(upstream.statusCode ?? 502, upstream.headers)
        answer.flushHeaders()
        upstream.pipe(answer)
      },
    )
    outgoing.on('error', () => answer.destroy())
    answer.on('close', () => outgoing.destroy())
    outgoing.end(body)
  }
  const server = createServer((incoming, answer) => {
    const chunks: Buffer[] = []
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
    incoming.on('end', () => {
      const body = Buffer.concat(chunks)
      if (holds(body.toString('utf8'))) {
        held.push(answer)
        reached()
        return
      }
      forward(incoming, answer, body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const url = new URL(targetUrl)
  url.port = String(port)
  return {
    url: url.toString(),
    held: heldPromise,
    get heldCount() {
      return held.length
    },
    drop() {
      for (const answer of held.splice(0)) answer.destroy()
    },
    async close() {
      for (const answer of held.splice(0)) answer.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
