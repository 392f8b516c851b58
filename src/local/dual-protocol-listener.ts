/**
 * One port for HTTP/1.1 and cleartext HTTP/2. The AgentCore clients speak HTTP/1.1; the Bedrock
 * Runtime client speaks HTTP/2 (with prior knowledge, no upgrade) to any `http://` endpoint. Each
 * connection is told apart by its first bytes: the HTTP/2 client preface, or anything else.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import {
  createServer as createHttp2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2'
import { type AddressInfo, createServer as createNetServer, type Server, type Socket } from 'node:net'
import { HTTP_DEFAULTS } from '../http/index.ts'

/**
 * The request handler both protocols share (HTTP/2 through Node's compatibility API): the local
 * service's app, through the HTTP layer's `nodeListener`.
 */
export type DualRequestHandler = (
  request: IncomingMessage | Http2ServerRequest,
  response: ServerResponse | Http2ServerResponse,
) => void | Promise<void>

const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
/** A connection that says nothing for this long is closed before it holds a socket for good. */
const SNIFF_TIMEOUT_MS = 10_000

/** A listening dual-protocol server. */
export class DualProtocolListener {
  readonly #net: Server
  readonly #sockets = new Set<Socket>()

  private constructor(net: Server, sockets: Set<Socket>) {
    this.#net = net
    this.#sockets = sockets
  }

  /** Listens on `port` (0 picks one) and `host`; rejects when the port cannot be taken. */
  static async listen(
    handler: DualRequestHandler,
    options: { port: number; host: string; keepAliveTimeoutMs?: number },
  ): Promise<DualProtocolListener> {
    const http1 = createHttpServer((request, response) => void handler(request, response))
    http1.keepAliveTimeout = options.keepAliveTimeoutMs ?? HTTP_DEFAULTS.keepAliveTimeoutMs
    const http2 = createHttp2Server((request, response) => void handler(request, response))
    const sockets = new Set<Socket>()
    const net = createNetServer((socket) => {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
      sniff(socket, (isHttp2) => (isHttp2 ? http2 : http1).emit('connection', socket))
    })
    await new Promise<void>((resolve, reject) => {
      net.once('error', reject)
      net.listen(options.port, options.host, () => {
        net.off('error', reject)
        resolve()
      })
    })
    return new DualProtocolListener(net, sockets)
  }

  address(): AddressInfo {
    return this.#net.address() as AddressInfo
  }

  /** Stops listening and ends every connection, idle or not. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#net.close(() => resolve()))
    for (const socket of this.#sockets) socket.destroy()
    await closed
  }
}

/**
 * Reads until the first bytes decide the protocol (the preface, or a byte that departs from it),
 * puts them back, and hands the socket on.
 */
function sniff(socket: Socket, decide: (isHttp2: boolean) => void): void {
  let seen = Buffer.alloc(0)
  // Until a server owns the socket, its errors (a reset mid-preface) are ours to absorb.
  const onError = () => socket.destroy()
  socket.on('error', onError)
  socket.setTimeout(SNIFF_TIMEOUT_MS, () => socket.destroy())
  const onData = (chunk: Buffer) => {
    seen = Buffer.concat([seen, chunk])
    const length = Math.min(seen.length, HTTP2_PREFACE.length)
    const isPrefix = seen.subarray(0, length).equals(HTTP2_PREFACE.subarray(0, length))
    if (isPrefix && seen.length < HTTP2_PREFACE.length) return
    socket.off('data', onData)
    socket.off('error', onError)
    socket.setTimeout(0)
    socket.pause()
    socket.unshift(seen)
    decide(isPrefix)
    // The server that took the socket reads on; make sure it flows again.
    process.nextTick(() => socket.resume())
  }
  socket.on('data', onData)
}
