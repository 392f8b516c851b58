/**
 * A listening HTTP/1.1 server: on any port (0 picks a free one), reporting the URL to reach it, and
 * closed with a drain: it stops listening, waits for what the server still owes (running turns,
 * tools), then ends every connection.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WILDCARD_HOSTS } from '../shared/host-check.ts'
import { HTTP_DEFAULTS } from './http-defaults.ts'
import type { NodeRequestListener } from './node-listener.ts'

/** Configuration of {@link HttpServer}. */
export interface HttpServerConfig {
  readonly listener: NodeRequestListener
  readonly port: number
  readonly host: string
  readonly keepAliveTimeoutMs?: number
}

/** A listening server. */
export class HttpServer {
  readonly #server: Server
  readonly #host: string
  readonly #port: number

  private constructor(server: Server, host: string) {
    this.#server = server
    this.#host = host
    this.#port = (server.address() as AddressInfo).port
  }

  /** Listens and resolves once it does; a port in use rejects, and nothing is left open. */
  static async listen(config: HttpServerConfig): Promise<HttpServer> {
    const server = createServer((incoming, outgoing) => void config.listener(incoming, outgoing))
    server.keepAliveTimeout = config.keepAliveTimeoutMs ?? HTTP_DEFAULTS.keepAliveTimeoutMs
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(config.port, config.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    return new HttpServer(server, config.host)
  }

  get port(): number {
    return this.#port
  }

  /** The base URL: a wildcard address is reported as loopback, an IPv6 one in brackets. */
  get url(): string {
    const host = WILDCARD_HOSTS.includes(this.#host) ? '127.0.0.1' : this.#host
    return `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${this.#port}`
  }

  /**
   * Stops listening (idle connections close), awaits `drain` (what the server still owes its
   * callers), then ends every connection, busy or not.
   */
  async close(drain: () => Promise<void> = async () => {}): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()))
    try {
      await drain()
    } finally {
      this.#server.closeAllConnections()
    }
    await closed
  }
}
