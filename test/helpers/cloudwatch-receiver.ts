/**
 * A stand-in CloudWatch endpoint on port 0 for the real SDK client (`endpoint`, or
 * AWS_ENDPOINT_URL_CLOUDWATCH for a child process): it records each PutMetricData as the SDK sent
 * it. @aws-sdk/client-cloudwatch speaks AWS JSON 1.0: the operation in `x-amz-target`, the input as
 * a JSON body (gzipped when large).
 */
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'

/** One datum of a PutMetricData request. */
export interface ReceivedDatum {
  readonly namespace: string
  readonly metricName: string
  readonly dimensions: Readonly<Record<string, string>>
  readonly value: number
  readonly unit: string | undefined
}

/** One request as it arrived. */
export interface ReceivedRequest {
  readonly target: string
  readonly authorization: string
  readonly data: readonly ReceivedDatum[]
}

export interface CloudWatchReceiver {
  readonly url: string
  readonly requests: readonly ReceivedRequest[]
  /** Every datum received, in order. */
  data(): ReceivedDatum[]
  /** Answers the next requests with this error (`undefined`: accept them again). */
  refuse(error: { readonly status: number; readonly type: string } | undefined): void
  close(): Promise<void>
}

interface PutMetricDataBody {
  Namespace: string
  MetricData: {
    MetricName: string
    Dimensions?: { Name: string; Value: string }[]
    Value: number
    Unit?: string
  }[]
}

export async function startCloudWatchReceiver(): Promise<CloudWatchReceiver> {
  const requests: ReceivedRequest[] = []
  let refusal: { status: number; type: string } | undefined
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const raw = Buffer.concat(chunks)
      const text = (request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString()
      const body = JSON.parse(text === '' ? '{}' : text) as PutMetricDataBody
      requests.push({
        target: String(request.headers['x-amz-target']),
        authorization: String(request.headers.authorization),
        data: (body.MetricData ?? []).map((datum) => ({
          namespace: body.Namespace,
          metricName: datum.MetricName,
          dimensions: Object.fromEntries((datum.Dimensions ?? []).map((d) => [d.Name, d.Value])),
          value: datum.Value,
          unit: datum.Unit,
        })),
      })
      const answer = refusal === undefined ? {} : { __type: refusal.type, message: 'refused by the test' }
      response.writeHead(refusal?.status ?? 200, { 'content-type': 'application/x-amz-json-1.0' })
      response.end(JSON.stringify(answer))
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    data: () => requests.flatMap((request) => request.data),
    refuse: (error) => {
      refusal = error
    },
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
