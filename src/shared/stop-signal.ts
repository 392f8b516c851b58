/**
 * How a service process ends on SIGTERM (a container stop) or SIGINT (Ctrl-C): it closes cleanly,
 * then exits 0; 1 when closing fails or outlasts `backstopMs`, so a stuck close never hangs a stop.
 */
export function exitOnStopSignal(close: (signal: NodeJS.Signals) => Promise<void>, backstopMs: number): void {
  const stop = (signal: NodeJS.Signals) => {
    setTimeout(() => process.exit(1), backstopMs).unref()
    close(signal).then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}
