import { useEffect, useState } from 'preact/hooks'
import { json, MP } from '../api.ts'
import { scoped } from '../company.ts'
import type { ImportRow } from '../revert.ts'
import { linkProps } from '../router.ts'
import { Scroll } from '../scroll.tsx'

export function when (iso: string | undefined): string {
  return iso ? new Date(iso).toLocaleString() : ''
}

/** The company's imports, newest first. */
export function ReportsPage () {
  const [rows, setRows] = useState<ImportRow[]>()
  const [error, setError] = useState<string>()
  useEffect(() => {
    json<{ data: ImportRow[] }>(scoped(`${MP}/users/imports?limit=200`)).then((r) => setRows(r.data)).catch((e: unknown) => setError((e as Error).message))
  }, [])
  return (
    <section aria-labelledby='reports-title'>
      <h1 id='reports-title' tabIndex={-1}>Reports</h1>
      {error && <p class='error' role='alert'>{error}</p>}
      {rows && rows.length === 0 && <p>No import yet. <a {...linkProps('import')}>Import a file</a>.</p>}
      {rows && rows.length > 0 && (
        <Scroll label='Imports'>
          <table class='reports'>
            <caption>Imports, newest first</caption>
            <thead><tr><th scope='col'>Started</th><th scope='col'>Status</th><th scope='col'>Mode</th><th scope='col'>Label</th><th scope='col'>By</th><th scope='col'>Succeeded</th><th scope='col'>Failed</th><th scope='col'>Total</th></tr></thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.reqId}>
                  <td><a {...linkProps(r.status === 'Pending' ? `imports/${encodeURIComponent(r.reqId)}/progress` : `reports/${encodeURIComponent(r.reqId)}`)}>{when(r.startTime)}</a></td>
                  <td><span class={`status ${r.status.toLowerCase()}`}>{r.status}</span>{r.revertedBy ? ' (reverted)' : ''}</td>
                  <td>{r.mode ?? ''}</td><td>{r.label ?? ''}</td><td>{r.displayName ?? ''}</td>
                  <td>{r.counters.succeeded}</td><td>{r.counters.failed}</td><td>{r.counters.total}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
    </section>
  )
}
