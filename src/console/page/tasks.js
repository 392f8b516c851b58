// The actor's background tasks, those of the session in view first (the others one click away):
// status, progress, times, delivery into memory, Cancel while one runs, and an ended task's
// result as values. The list is polled fast while a task runs or a result is on its way to
// memory, slowly otherwise; a result is asked for once, when its task completed or failed, and
// never for a cancelled task (it has none).
import { useEffect, useRef, useState } from 'preact/hooks'
import { api, query } from './api.js'
import { Progress, time, Values } from './display.js'
import { html } from './html.js'
import { usePolling } from './hooks.js'

const ENDED = ['completed', 'failed', 'cancelled']
/** The outcomes that have a result to show. */
const WITH_RESULT = ['completed', 'failed']
const ACTIVE = ['queued', 'working']
/** Milliseconds between polls while something moves, and while all has ended. */
const POLL_ACTIVE_MS = 1000
const POLL_IDLE_MS = 5000

/** When a task started and ended, and where its memory event stands, in one line. */
function taskTimes(task) {
  const ended = ENDED.includes(task.status) ? ` · ended ${time(task.updated_at)}` : ''
  return `started ${time(task.created_at)}${ended} · memory ${task.delivery?.state ?? 'none'}`
}

/** True while a task runs or its result is still to land in memory. */
function moving(task) {
  return ACTIVE.includes(task.status) || task.delivery?.state === 'pending'
}

function TaskResult({ result }) {
  const [raw, setRaw] = useState(false)
  if (result.state === 'loading') return html`<div class="muted">reading the result...</div>`
  if (result.state === 'error') return html`<div class="problem" role="alert">${result.error}</div>`
  const { values, text, status } = result.answer
  return html`<div class="result" data-result=${status}>
    ${values ? html`<${Values} values=${values} />` : html`<div class="text">${text}</div>`}
    <button class="link" onClick=${() => setRaw(!raw)}>${raw ? 'hide raw' : 'raw'}</button>
    ${raw && html`<pre>${text}</pre>`}
  </div>`
}

function TaskCard({ task, result, onCancel }) {
  return html`<div class="task" data-task-id=${task.task_id} data-status=${task.status}>
    <div class="head">
      <strong>${task.tool}</strong>
      <span class="status ${task.status}"
        >${task.status}${task.queue_position ? ` #${task.queue_position}` : ''}</span
      >
    </div>
    <div><code>${task.task_id}</code></div>
    <${Progress} progress=${task.progress} total=${task.total} />
    ${task.status_message && html`<div class="muted">${task.status_message}</div>`}
    <div class="muted">${taskTimes(task)}</div>
    ${ACTIVE.includes(task.status) && html`<button onClick=${() => onCancel(task.task_id)}>Cancel</button>`}
    ${result && html`<${TaskResult} result=${result} />`}
  </div>`
}

export function Tasks({ scope, refresh, onDelivered }) {
  const [tasks, setTasks] = useState([])
  const [results, setResults] = useState({})
  const [problem, setProblem] = useState(undefined)
  const [showOthers, setShowOthers] = useState(false)
  /** Task ids whose result was asked for: each is asked once (again only after a failure to reach it). */
  const asked = useRef(new Set())
  const anyMoving = useRef(false)
  const delivered = useRef('')
  useEffect(() => {
    setTasks([])
    setResults({})
    asked.current = new Set()
  }, [scope.actorId])
  // A session's delivered tasks are told afresh when the session changes.
  useEffect(() => {
    delivered.current = ''
  }, [scope.actorId, scope.sessionId])

  const fetchResult = (task) => {
    if (!WITH_RESULT.includes(task.status) || asked.current.has(task.task_id)) return
    asked.current.add(task.task_id)
    const set = (value) => setResults((now) => ({ ...now, [task.task_id]: value }))
    set({ state: 'loading' })
    api(query('/api/tasks/result', { ...scope, taskId: task.task_id }))
      .then((answer) => set({ state: 'done', answer }))
      .catch((error) => {
        // A service out of reach is asked again on a later poll; a refusal is shown and kept.
        if (error.status === undefined || error.status >= 500) asked.current.delete(task.task_id)
        set({ state: 'error', error: error.message })
      })
  }

  const load = async (wanted) => {
    try {
      const answer = await api(query('/api/tasks', scope))
      if (!wanted()) return
      setTasks(answer.tasks)
      setProblem(undefined)
      anyMoving.current = answer.tasks.some(moving)
      const mine = answer.tasks.filter((task) => task.in_session)
      const landed = mine.filter((task) => task.delivery?.state === 'delivered').map((task) => task.task_id)
      if (landed.join() !== delivered.current) {
        delivered.current = landed.join()
        onDelivered(landed)
      }
    } catch (error) {
      if (wanted()) setProblem(error.message)
    }
  }
  const pollNow = usePolling(
    load,
    () => (anyMoving.current ? POLL_ACTIVE_MS : POLL_IDLE_MS),
    [scope.actorId, scope.sessionId],
    refresh,
  )

  const mine = tasks.filter((task) => task.in_session)
  const others = tasks.filter((task) => !task.in_session)
  // Results of the tasks in view: the session's, and the others' once they are shown.
  useEffect(() => {
    for (const task of showOthers ? tasks : mine) fetchResult(task)
  }, [tasks, showOthers])

  const cancel = async (taskId) => {
    await api('/api/tasks/cancel', { ...scope, taskId }).catch((error) => setProblem(error.message))
    pollNow()
  }
  const card = (task) =>
    html`<${TaskCard} key=${task.task_id} task=${task} result=${results[task.task_id]} onCancel=${cancel} />`
  return html`<section class="tasks">
    <h2>Tasks <span class="muted">of this session</span></h2>
    ${problem && html`<p class="problem" role="alert">${problem}</p>`}
    <div class="scroll">
      ${mine.length === 0 && html`<p class="muted">No background task in this session yet.</p>`}
      ${mine.map(card)}
      ${
        others.length > 0 &&
        html`<details
          class="others"
          open=${showOthers}
          onToggle=${(event) => setShowOthers(event.target.open)}
        >
          <summary>${others.length} in other sessions of ${scope.actorId}</summary>
          ${others.map(card)}
        </details>`
      }
    </div>
  </section>`
}
