import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { connect as connectHttp2 } from 'node:http2'
import { connect } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { DualProtocolListener } from '../../src/local/dual-protocol-listener.ts'

describe('one port for HTTP/1.1 and cleartext HTTP/2', () => {
  let listener: DualProtocolListener
  let url: string
  before(async () => {
    listener = await DualProtocolListener.listen(
      (request, response) => {
        // Both protocols' responses offer these members; the union type does not say so.
        const reply = response as ServerResponse
        reply.writeHead(200, { 'content-type': 'text/plain' })
        reply.end(`HTTP/${request.httpVersion}`)
      },
      { port: 0, host: '127.0.0.1' },
    )
    url = `http://127.0.0.1:${listener.address().port}`
  })
  after(() => listener.close())

  const http2Get = () =>
    new Promise<string>((resolve, reject) => {
      const session = connectHttp2(url)
      session.on('error', reject)
      const stream = session.request({ ':path': '/' })
      let body = ''
      stream.setEncoding('utf8')
      stream.on('data', (chunk: string) => {
        body += chunk
      })
      stream.on('end', () => {
        session.close()
        resolve(body)
      })
      stream.on('error', reject)
    })

  test('each connection is served in the protocol it speaks', async () => {
    assert.equal(await (await fetch(url)).text(), 'HTTP/1.1')
    assert.equal(await http2Get(), 'HTTP/2.0')
  })

  test('a connection reset before its protocol is known does not take the server down', async () => {
    for (const first of ['', 'PRI * HTTP/2']) {
      const socket = connect(listener.address().port, '127.0.0.1')
      await new Promise((resolve) => socket.once('connect', resolve))
      if (first !== '') await new Promise((resolve) => socket.write(first, resolve))
      socket.resetAndDestroy()
      await new Promise((resolve) => socket.once('close', resolve))
    }
    assert.equal(await (await fetch(url)).text(), 'HTTP/1.1')
    assert.equal(await http2Get(), 'HTTP/2.0')
  })
})
