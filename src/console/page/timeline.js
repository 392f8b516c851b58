// The session's memory timeline: every event in order, who wrote it, its text (a task's result
// as its values), the raw payload one click away; each entry of a continuation turn (the agent
// acting on a finished task on its own) is marked "while you were away", as its event's metadata
// says. Polled with the cursor of the previous read, so each poll brings only what is new; kept on
// the newest event. What it holds is handed to the chat, which shows continuations as they happen.
import { useEffect, useRef, useState } from 'preact/hooks'
import { api, query } from './api.js'
import { AwayMark, continuationOf, time, Values } from './display.js'
import { html } from './html.js'
import { usePolling, useStickToBottom } from './hooks.js'

const POLL_MS = 1500

function Entry({ item }) {
  const [open, setOpen] = useState(false)
  const { result } = item
  return html`<div
    class="entry ${item.continuation ? 'away' : ''}"
    data-author=${item.author}
    data-event-id=${item.eventId}
    data-task-id=${result?.taskId ?? item.taskId}
    data-continuation=${continuationOf(item)}
  >
    <div class="line">
      <span class="muted">${time(item.time)}</span>
      <span class="who who-${item.author.replace(' ', '-')}">${item.author}</span>
      ${item.continuation && html`<${AwayMark} mark=${item.continuation} />`}
      ${result && html`<span class="muted">${result.tool} <code>${result.taskId}</code> ${result.status}</span>`}
      <button class="link" onClick=${() => setOpen(!open)}>${open ? 'hide raw' : 'raw'}</button>
    </div>
    ${
      result?.values
        ? html`<${Values} values=${result.values} />`
        : html`<div class="text ${open ? 'open' : ''}">${result?.body ?? item.text}</div>`
    }
    ${open && html`<pre>${JSON.stringify(item.raw, null, 2)}</pre>`}
  </div>`
}

/**
 * `delivered`: ids of the session's tasks whose result the MCP server says is in memory. One that
 * an incremental read has not brought was stamped further back than reads look (a delivery that
 * lagged): the whole session is read again, once for that task. `onItems(scope, items)` is told
 * every entry shown, oldest first, each time they change.
 */
export function Timeline({ scope, refresh, delivered, onItems }) {
  const [items, setItems] = useState([])
  const [problem, setProblem] = useState(undefined)
  const shown = useRef([])
  const cursor = useRef(undefined)
  const wholeReadFor = useRef(new Set())
  const landed = useRef(delivered)
  landed.current = delivered
  const { box, onScroll, stick } = useStickToBottom([items])
  useEffect(() => {
    shown.current = []
    cursor.current = undefined
    wholeReadFor.current = new Set()
    setItems([])
    stick()
  }, [scope.actorId, scope.sessionId])

  const read = (from) => api(query('/api/timeline', from === undefined ? scope : { ...scope, cursor: from }))
  const load = async (wanted) => {
    // What the task panel said had landed before this read began: this read must bring it.
    const expected = landed.current
    try {
      let answer = await read(cursor.current)
      if (!wanted()) return
      let all = answer.full ? answer.items : [...shown.current, ...answer.items]
      const missing = expected.filter(
        (taskId) => !wholeReadFor.current.has(taskId) && !all.some((item) => item.result?.taskId === taskId),
      )
      if (missing.length > 0) {
        for (const taskId of missing) wholeReadFor.current.add(taskId)
        answer = await read(undefined)
        if (!wanted()) return
        all = answer.items
      }
      cursor.current = answer.cursor
      const changed = all.length !== shown.current.length || answer.full
      shown.current = all
      if (changed) {
        setItems(all)
        onItems(scope, all)
      }
      setProblem(undefined)
    } catch (error) {
      if (!wanted()) return
      // A cursor the console no longer takes: the next poll reads the whole session.
      if (error.status === 400 && cursor.current !== undefined) cursor.current = undefined
      setProblem(error.message)
    }
  }
  usePolling(load, () => POLL_MS, [scope.actorId, scope.sessionId], refresh)

  return html`<section class="timeline">
    <h2>Memory timeline <span class="muted">of this session</span></h2>
    ${problem && html`<p class="problem" role="alert">${problem}</p>`}
    <div class="entries scroll" ref=${box} onScroll=${onScroll}>
      ${items.length === 0 && html`<p class="muted">No events in this session yet.</p>`}
      ${items.map((item) => html`<${Entry} key=${item.key} item=${item} />`)}
    </div>
  </section>`
}
