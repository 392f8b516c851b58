// The chat: one turn at a time through the runtime (InvokeAgentRuntime behind the console), the
// answer streamed in, each tool call inline with its progress and the task it started. Between
// turns, the agent's continuations (it acting on a finished task on its own, read from the
// timeline's entries, which memory marks so) show as they happen, marked "while you were away".
import { useEffect, useRef, useState } from 'preact/hooks'
import { chatEvents } from './api.js'
import { AwayMark, continuationOf, Progress } from './display.js'
import { html } from './html.js'
import { useStickToBottom } from './hooks.js'

/** An error event as one line: its code, then its message (which may already start with the code). */
function errorText(item) {
  return item.message.startsWith(item.code) ? item.message : `${item.code}: ${item.message}`
}

/** A paused turn's question (an `interrupt` event) in words: an approval's question, else its reason or name. */
function questionOf(item) {
  const reason = item.reason
  const text =
    typeof reason?.question === 'string'
      ? reason.question
      : typeof reason === 'string'
        ? reason
        : reason === undefined
          ? item.name
          : `${item.name}: ${JSON.stringify(reason)}`
  return { id: item.interrupt_id, text }
}

/** The started task's id goes to the first call of that tool still without one. */
function withTaskId(tools, item) {
  const index = tools.findIndex((tool) => tool.tool === item.tool && tool.taskId === undefined)
  return tools.map((tool, at) => (at === index ? { ...tool, taskId: item.task_id } : tool))
}

/** A call after a progress or end event: matched by call id, or by tool name when there is none. */
function toolAfter(tool, item) {
  const mine = item.tool_use_id !== undefined ? item.tool_use_id === tool.id : item.tool === tool.tool
  if (!mine) return tool
  if (item.type === 'tool_end') return { ...tool, status: item.status === 'success' ? 'done' : 'failed' }
  return { ...tool, progress: item.progress, total: item.total, message: item.message }
}

/**
 * The continuations among timeline entries, in the order they began: each with its task, its mark
 * and its entries, keyed by the task and the depth (or `stopped`).
 */
function continuationsIn(items) {
  const found = new Map()
  for (const item of items) {
    if (!item.continuation) continue
    const key = `${item.taskId ?? ''}/${continuationOf(item)}`
    const known = found.get(key)
    if (known) known.items.push(item)
    else found.set(key, { key, taskId: item.taskId, mark: item.continuation, items: [item] })
  }
  return found
}

/** One entry of a continuation in the chat: a tool call, a tool's result, or the agent's answer. */
function AwayEntry({ item }) {
  if (item.author === 'agent' && item.calls) {
    const [name] = item.calls
    const input = item.text.startsWith(`calls ${name} `)
      ? item.text.slice(`calls ${name} `.length)
      : item.text
    return html`<div class="tool" data-tool=${name}>
      <strong>${name}</strong> <span class="muted">${input}</span>
    </div>`
  }
  if (item.author === 'tool') return html`<div class="muted tool-result">${item.text}</div>`
  if (item.author === 'agent') return html`<div class="message agent">${item.text}</div>`
  // The runtime's opening message and the agent's state are in the timeline.
  return null
}

/** A continuation, as it happens: what ended, what the agent did, its answer. */
function AwayTurn({ away }) {
  const { mark, taskId, items } = away
  const outcome = mark.stopped
    ? 'ended; a limit stopped the agent acting on its own until you reply, so it only tells you'
    : 'ended; the agent carried on'
  return html`<div
    class="turn away"
    data-continuation=${continuationOf({ continuation: mark })}
    data-task-id=${taskId}
  >
    <div class="away-note">
      <${AwayMark} mark=${mark} />
      <span>task <code>${taskId}</code> ${outcome}</span>
    </div>
    ${items.map((item) => html`<${AwayEntry} key=${item.key} item=${item} />`)}
  </div>`
}

/**
 * `timeline`: the entries of the session's memory timeline, oldest first (undefined until it has
 * been read). Continuations already there when the chat first sees it are history (the timeline
 * shows them); later ones join the chat where they happen, and grow as their entries land.
 */
export function Chat({ scope, timeline, onTurnEnd }) {
  const [turns, setTurns] = useState([])
  const [prompt, setPrompt] = useState('')
  const [busy, setBusy] = useState(false)
  const { box, onScroll, stick } = useStickToBottom([turns])
  /** The answer being streamed, stopped when the session or actor changes. */
  const streaming = useRef(undefined)
  const nextTurn = useRef(0)
  /** Keys of the continuations the session held when the chat first saw its timeline. */
  const history = useRef(undefined)
  useEffect(() => {
    streaming.current?.abort()
    history.current = undefined
    setTurns([])
    stick()
  }, [scope.sessionId, scope.actorId])
  useEffect(() => {
    if (timeline === undefined) return
    const found = continuationsIn(timeline)
    if (history.current === undefined) {
      history.current = new Set(found.keys())
      return
    }
    const past = history.current
    setTurns((all) => {
      let changed = false
      const next = all.map((turn) => {
        const now = turn.away && found.get(turn.away.key)
        if (!now || now.items.length === turn.away.items.length) return turn
        changed = true
        return { ...turn, away: now }
      })
      for (const [key, away] of found) {
        if (past.has(key) || next.some((turn) => turn.away?.key === key)) continue
        changed = true
        next.push({ id: (nextTurn.current += 1), away })
      }
      return changed ? next : all
    })
  }, [timeline])
  const send = (event) => {
    event.preventDefault()
    setPrompt('')
    return turn(prompt, { prompt })
  }
  /** Answers a question of the paused turn (its `interrupt` event) as a turn of its own. */
  const answer = (question, approved) =>
    turn(`${approved ? 'Approved' : 'Refused'}: ${question.text}`, {
      interrupt_responses: [{ interrupt_id: question.id, response: approved ? 'yes' : 'no' }],
    })
  /** One turn: `label` is what the chat shows as the user's message, `input` what is sent. */
  const turn = async (label, input) => {
    const id = (nextTurn.current += 1)
    const stop = new AbortController()
    streaming.current = stop
    // Each event updates its own turn; one from a session left behind finds none and is dropped.
    const update = (change) => setTurns((all) => all.map((turn) => (turn.id === id ? change(turn) : turn)))
    setBusy(true)
    stick()
    // An answer closes the questions it answers: their buttons go.
    setTurns((all) => [
      ...all.map((turn) => (turn.away ? turn : { ...turn, questions: [] })),
      { id, prompt: label, text: '', tools: [], questions: [], error: undefined },
    ])
    try {
      for await (const item of chatEvents({ ...scope, ...input }, stop.signal)) {
        if (item.type === 'text') update((turn) => ({ ...turn, text: turn.text + item.text }))
        else if (item.type === 'tool_start')
          update((turn) => ({
            ...turn,
            tools: [...turn.tools, { id: item.tool_use_id, tool: item.tool, status: 'running' }],
          }))
        else if (item.type === 'task_started')
          update((turn) => ({ ...turn, tools: withTaskId(turn.tools, item) }))
        else if (item.type === 'tool_progress' || item.type === 'tool_end')
          update((turn) => ({ ...turn, tools: turn.tools.map((tool) => toolAfter(tool, item)) }))
        else if (item.type === 'interrupt')
          update((turn) => ({ ...turn, questions: [...turn.questions, questionOf(item)] }))
        else if (item.type === 'error') update((turn) => ({ ...turn, error: errorText(item) }))
      }
    } catch (error) {
      if (!stop.signal.aborted) update((turn) => ({ ...turn, error: String(error.message ?? error) }))
    } finally {
      if (streaming.current === stop) streaming.current = undefined
      setBusy(false)
      onTurnEnd()
    }
  }
  return html`<section class="chat">
    <h2>Chat</h2>
    <div class="messages scroll" ref=${box} onScroll=${onScroll}>
      ${
        turns.length === 0 &&
        html`<p class="muted">
          Ask for something long: "train a model called fraud-v1 for 30 epochs". What this session already
          holds is in the memory timeline.
        </p>`
      }
      ${turns.map((turn) =>
        turn.away
          ? html`<${AwayTurn} key=${turn.id} away=${turn.away} />`
          : html`<div class="turn" key=${turn.id}>
              <div class="message user">${turn.prompt}</div>
              ${turn.tools.map(
                (tool) =>
                  html`<div class="tool" data-tool=${tool.tool}>
                    <strong>${tool.tool}</strong> <span class="muted">${tool.status}</span>
                    ${tool.taskId && html` <span class="muted">task <code>${tool.taskId}</code></span>`}
                    <${Progress} progress=${tool.progress} total=${tool.total} />
                    ${tool.message && html`<div class="muted">${tool.message}</div>`}
                  </div>`,
              )}
              ${turn.text && html`<div class="message agent">${turn.text}</div>`}
              ${turn.questions.map(
                (question) =>
                  html`<div class="question" key=${question.id} data-interrupt=${question.id}>
                    <div>${question.text}</div>
                    <button
                      class="primary"
                      type="button"
                      disabled=${busy}
                      onClick=${() => answer(question, true)}
                    >
                      Approve
                    </button>
                    <button type="button" disabled=${busy} onClick=${() => answer(question, false)}>
                      Refuse
                    </button>
                  </div>`,
              )}
              ${turn.error && html`<div class="message error" role="alert">${turn.error}</div>`}
            </div>`,
      )}
    </div>
    <form class="ask" onSubmit=${send}>
      <input
        type="text"
        name="prompt"
        placeholder="Message the agent"
        value=${prompt}
        onInput=${(event) => setPrompt(event.target.value)}
      />
      <button class="primary" type="submit" disabled=${busy}>${busy ? 'Answering...' : 'Send'}</button>
    </form>
  </section>`
}
