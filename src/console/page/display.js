// Small display pieces the panels share: a task's result as values (a training's accuracy, loss,
// epochs, saved path; the raw result stays one click away wherever they are shown), a progress
// bar, a time of day, the mark of a continuation turn.
import { html } from './html.js'

/** What marks a continuation turn: the agent acted on a finished task while the user was away. */
export const WHILE_AWAY = 'while you were away'

/**
 * A timeline item's continuation as its `data-continuation` attribute: its depth in the chain
 * (`1`, `2`, ...), `stopped` when a limit stopped the agent acting on its own, undefined for
 * any other entry.
 */
export function continuationOf(item) {
  const mark = item.continuation
  if (!mark) return undefined
  return mark.stopped ? 'stopped' : String(mark.depth ?? '')
}

/** The mark of a continuation's entry: "while you were away", and "stopped" when a limit stopped it. */
export function AwayMark({ mark }) {
  return html`<span
    class="away-mark"
    title=${mark.stopped ? 'a limit stopped the agent acting on its own' : `continuation ${mark.depth ?? ''}`}
    >${WHILE_AWAY}${mark.stopped ? ' · stopped' : ''}</span
  >`
}

/** `test_accuracy` -> `test accuracy`. */
function label(key) {
  return key.replaceAll('_', ' ')
}

/** A value as read at a glance: fractions to four significant digits (the raw result has them all). */
function shown(value) {
  if (value === null) return '-'
  if (typeof value === 'number' && !Number.isInteger(value)) return String(Number(value.toPrecision(4)))
  return String(value)
}

/** The values of a result, as a two-column table; each cell keeps the exact value in `data-value`. */
export function Values({ values }) {
  return html`<table class="values">
    <tbody>
      ${Object.entries(values).map(
        ([key, value]) =>
          html`<tr key=${key}>
            <th>${label(key)}</th>
            <td data-key=${key} data-value=${String(value)} title=${String(value)}>${shown(value)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`
}

/** The time of day of an ISO time, in the reader's locale. */
export function time(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : ''
}

/** A progress bar with its count, when there is progress to show. */
export function Progress({ progress, total }) {
  if (progress === null || progress === undefined) return null
  const max = total ?? 100
  return html`<div class="progress">
    <progress value=${progress} max=${max}></progress>
    <span class="muted">${progress}${total ? ` / ${total}` : ''}</span>
  </div>`
}
