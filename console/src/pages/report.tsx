import { useEffect, useMemo, useState } from 'preact/hooks'
import { call, details, json, MP, type CheckAnswer, type ImportView } from '../api.ts'
import { scoped } from '../company.ts'
import { resultsCsv, retryCsv } from '../csv.ts'
import { importedFile, openNext } from '../handoff.ts'
import { revertAllowed, type ImportRow } from '../revert.ts'
import { linkProps, navigate } from '../router.ts'
import { Scroll } from '../scroll.tsx'
import { PlanDetails } from './import.tsx'
import { when } from './reports.tsx'

function download (text: string, name: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }))
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

/** Shown for an import that ended and was not reverted (hidden while Pending or once reverted). */
export function RevertButton ({ row, onRevert, busy }: { row: Pick<ImportRow, 'status' | 'revertedBy'>, onRevert: () => void, busy?: boolean }) {
  if (!revertAllowed(row)) return null
  return <button type='button' disabled={busy} onClick={onRevert}>Revert this import…</button>
}

export function ReportPage ({ reqId }: { reqId: string }) {
  const [view, setView] = useState<ImportView>()
  const [revertedBy, setRevertedBy] = useState<string | null>()
  const [error, setError] = useState<string>()
  const [status, setStatus] = useState('')
  const [code, setCode] = useState('')
  const [confirmDelete, setConfirmDelete] = useState(false)
  const [revert, setRevert] = useState<CheckAnswer>()
  const [busy, setBusy] = useState(false)
  const path = `${MP}/users/imports/${encodeURIComponent(reqId)}`

  useEffect(() => {
    details(reqId, 'full').then(setView).catch((e: unknown) => setError((e as Error).message))
    json<{ data: ImportRow[] }>(scoped(`${MP}/users/imports?limit=1000`))
      .then((r) => setRevertedBy(r.data.find((row) => row.reqId === reqId)?.revertedBy ?? null))
      .catch(() => setRevertedBy(null))
  }, [reqId])

  const report = view?.report ?? []
  const statuses = useMemo(() => [...new Set(report.map((l) => l.status))].sort(), [report])
  const codes = useMemo(() => [...new Set(report.map((l) => l.errorCode).filter((c) => c !== undefined))].sort((a, b) => a! - b!), [report])
  const shown = report.filter((l) => (status === '' || l.status === status) && (code === '' || String(l.errorCode) === code))
  const failed = report.filter((l) => l.status === 'failed')

  const act = async (f: () => Promise<void>) => {
    setBusy(true); setError(undefined)
    try { await f() } catch (e) { setError((e as Error).message) } finally { setBusy(false) }
  }
  const retry = () => {
    const original = importedFile(reqId)
    openNext(retryCsv(failed.map((l) => l.lineNumber), original, report), `retry-${reqId.slice(0, 8)}.csv`)
    navigate('import')
  }
  const remove = () => act(async () => {
    await call(scoped(`${path}/details`), { method: 'DELETE' })
    navigate('reports')
  })
  const checkRevert = () => act(async () => {
    setRevert((await json<{ data: CheckAnswer }>(scoped(`${path}/revert/check`), { method: 'POST' })).data)
  })
  const runRevert = () => act(async () => {
    const r = await json<{ data: { reqId: string } }>(scoped(`${path}/revert`), { method: 'POST' })
    navigate(`imports/${encodeURIComponent(r.data.reqId)}/progress`)
  })

  return (
    <section aria-labelledby='report-title'>
      <h1 id='report-title' tabIndex={-1}>Import report</h1>
      {error && <p class='error' role='alert'>{error}</p>}
      {view && (
        <>
          <dl class='facts'>
            <div><dt>Status</dt><dd data-testid='report-status'>{view.status}</dd></div>
            <div><dt>Label</dt><dd>{view.label || '—'}</dd></div>
            <div><dt>By</dt><dd>{view.displayName ?? ''}</dd></div>
            <div><dt>Started</dt><dd>{when(view.startTime)}</dd></div>
            <div><dt>Lines</dt><dd>{view.counters.succeeded} succeeded, {view.counters.failed} failed, {view.counters.warnings} warnings of {view.counters.total}</dd></div>
            {revertedBy && <div><dt>Reverted by</dt><dd data-testid='reverted-by' title={revertedBy}><a {...linkProps(`reports/${encodeURIComponent(revertedBy)}`)}>{revertedBy.slice(0, 12)}…</a></dd></div>}
          </dl>
          <div class='actions'>
            <button type='button' class='primary' disabled={report.length === 0} onClick={() => download(resultsCsv(report), `results-${reqId.slice(0, 8)}.csv`)}>Download the results (CSV)</button>
            <button type='button' disabled={failed.length === 0} onClick={retry}>Retry the {failed.length} failed lines</button>
            {revertedBy !== undefined && <RevertButton row={{ status: view.status, revertedBy }} onRevert={() => { void checkRevert() }} busy={busy} />}
            {!confirmDelete
              ? <button type='button' class='danger' onClick={() => setConfirmDelete(true)}>Delete this report</button>
              : <button type='button' class='danger' disabled={busy} onClick={() => { void remove() }}>Confirm: delete this report</button>}
          </div>
          {revert && (
            <div class='panel'>
              <h2>Revert: what it would do</h2>
              <ul class='counts'>{Object.entries(revert.actions).map(([k, v]) => <li key={k}><strong>{v}</strong> {k}</li>)}<li><strong>{revert.errors.length}</strong> errors</li></ul>
              <Scroll label='Revert plan'>
                <table>
                  <caption>Revert plan</caption>
                  <thead><tr><th scope='col'>Line</th><th scope='col'>Action</th><th scope='col'>Login</th><th scope='col'>Outcome</th><th scope='col'>Now → restored</th></tr></thead>
                  <tbody>{(revert.plan ?? []).slice(0, 200).map((l) => <tr key={l.lineNumber} class={l.status === 'failed' ? 'failed' : ''}><td>{l.lineNumber}</td><td>{l.action}</td><td>{l.loginEmail}</td><td>{l.outcome}</td><td><PlanDetails line={l} /></td></tr>)}</tbody>
                </table>
              </Scroll>
              <button type='button' class='danger' disabled={busy} onClick={() => { void runRevert() }}>Run the revert</button>
            </div>
          )}
          <div class='grid filters'>
            <label>Status
              <select value={status} onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value)}>
                <option value=''>All</option>{statuses.map((s) => <option key={s} value={s}>{s}</option>)}
              </select>
            </label>
            <label>Code
              <select value={code} onChange={(e) => setCode((e.currentTarget as HTMLSelectElement).value)}>
                <option value=''>All</option>{codes.map((c) => <option key={c} value={String(c)}>{c}</option>)}
              </select>
            </label>
          </div>
          <Scroll label='Report lines'>
            <table class='report-lines'>
              <caption>{shown.length} of {report.length} lines</caption>
              <thead><tr><th scope='col'>Line</th><th scope='col'>Action</th><th scope='col'>Login</th><th scope='col'>Status</th><th scope='col'>Code</th><th scope='col'>Message</th></tr></thead>
              <tbody>
                {shown.slice(0, 500).map((l) => (
                  <tr key={l.lineNumber} class={l.status === 'failed' ? 'failed' : ''}>
                    <td>{l.lineNumber}</td><td>{l.action}</td><td>{l.loginEmail}</td><td>{l.status}</td><td>{l.errorCode ?? ''}</td><td>{l.errorMsg ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
          {shown.length > 500 && <p class='hint'>The first 500 lines are shown; the download has them all.</p>}
        </>
      )}
    </section>
  )
}
