import { useEffect, useState } from 'preact/hooks'
import { ADMIN, json } from './api.ts'
import { ownCompany, type Company } from './company.ts'

/** The first page of the companies GET /admin/v1.0/companies allows (its limit's maximum). */
const LISTED = 1000

/**
 * The header's company picker, shown when the caller administers more than one company. It starts
 * on the caller's own company, and drops a choice the caller may no longer make (another account
 * signed in in this tab, a company out of its scope since).
 */
export function CompanyPicker ({ value, onChange }: { value: string | undefined, onChange: (id: string | undefined) => void }) {
  const [companies, setCompanies] = useState<Company[]>()

  useEffect(() => {
    json<{ data: Company[] }>(`${ADMIN}/companies?limit=${LISTED}`)
      .then((r) => {
        setCompanies(r.data)
        if (r.data.length <= 1) {
          if (value !== undefined) onChange(undefined)
          return
        }
        if (value === undefined || !r.data.some((c) => c.id === value)) {
          const own = ownCompany()
          onChange(r.data.some((c) => c.id === own) ? own : r.data[0]!.id)
        }
      })
      .catch((e: unknown) => {
        // Without the list there is nothing to choose from: the pages act on the caller's own company.
        console.warn('massprov: the companies could not be listed', e)
        setCompanies([])
        if (value !== undefined) onChange(undefined)
      })
    // Listed once per sign-in: the component is mounted with the signed-in header.
  }, [])

  if (!companies || companies.length <= 1) return null
  return (
    <label class='company'>Company
      <select value={value} onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}>
        {companies.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
      </select>
    </label>
  )
}
