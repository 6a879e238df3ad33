/** An import row of GET /users/imports, as far as the console reads it. */
export interface ImportRow {
  reqId: string
  status: string
  mode?: string
  label?: string
  displayName?: string
  startTime?: string
  endTime?: string
  revertedBy?: string | null
  counters: { succeeded: number, failed: number, warnings: number, total: number, processed?: number }
  errorMsg?: string
}

/** A revert is offered for an import that has ended and was not reverted already. */
export function revertAllowed (row: Pick<ImportRow, 'status' | 'revertedBy'>): boolean {
  return row.status !== 'Pending' && !row.revertedBy
}
