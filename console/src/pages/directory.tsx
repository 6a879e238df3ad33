import { useEffect, useState } from 'preact/hooks'
import { ADMIN, json } from '../api.ts'
import { scoped } from '../company.ts'
import { Scroll } from '../scroll.tsx'

interface User { id: string, loginEmail: string, displayName: string | null, jobTitle: string | null, department: string | null, adminType: string | null, isActive: boolean }
interface Pbx { pbxId: string, name: string }
interface PhoneNumber { pbxId: string, shortNumber: string, internalNumber: string | null, number: string | null, userId: string | null }

const PAGE = 1000

/** The company's users and PBX numbers, read-only, filtered as one types. */
export function DirectoryPage () {
  const [users, setUsers] = useState<User[]>()
  const [total, setTotal] = useState(0)
  const [numbers, setNumbers] = useState<PhoneNumber[]>()
  const [query, setQuery] = useState('')
  const [error, setError] = useState<string>()

  useEffect(() => {
    json<{ data: User[], total: number }>(scoped(`${ADMIN}/users?limit=${PAGE}`))
      .then((r) => { setUsers(r.data); setTotal(r.total) })
      .catch((e: unknown) => setError((e as Error).message))
    json<{ data: Pbx[] }>(scoped(`${ADMIN}/pbxs`))
      .then((r) => Promise.all(r.data.map((p) => json<{ data: PhoneNumber[] }>(scoped(`${ADMIN}/pbxs/${encodeURIComponent(p.pbxId)}/phonenumbers`)).then((n) => n.data))))
      .then((all) => setNumbers(all.flat()))
      .catch((e: unknown) => setError((e as Error).message))
  }, [])

  const q = query.trim().toLowerCase()
  const byId = new Map((users ?? []).map((u) => [u.id, u]))
  const shownUsers = (users ?? []).filter((u) => q === '' || [u.loginEmail, u.displayName, u.jobTitle, u.department].some((v) => v?.toLowerCase().includes(q)))
  const shownNumbers = (numbers ?? []).filter((n) => q === '' || [n.pbxId, n.shortNumber, n.internalNumber, n.number, byId.get(n.userId ?? '')?.loginEmail].some((v) => v?.toLowerCase().includes(q)))

  return (
    <section aria-labelledby='directory-title'>
      <h1 id='directory-title' tabIndex={-1}>Users and numbers</h1>
      <div class='grid'>
        <label>Search
          <input type='search' value={query} onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)} placeholder='e-mail, name, number…' />
        </label>
      </div>
      {error && <p class='error' role='alert'>{error}</p>}
      {users && (
        <Scroll label='Users'>
          <table>
            <caption>Users: {shownUsers.length} shown of {total}{total > PAGE ? ` (the first ${PAGE} are searched)` : ''}</caption>
            <thead><tr><th scope='col'>Login</th><th scope='col'>Name</th><th scope='col'>Job title</th><th scope='col'>Department</th><th scope='col'>Admin</th></tr></thead>
            <tbody>{shownUsers.slice(0, 300).map((u) => <tr key={u.id}><td>{u.loginEmail}</td><td>{u.displayName ?? ''}</td><td>{u.jobTitle ?? ''}</td><td>{u.department ?? ''}</td><td>{u.adminType ?? ''}</td></tr>)}</tbody>
          </table>
        </Scroll>
      )}
      {numbers && (
        <Scroll label='PBX numbers'>
          <table>
            <caption>PBX numbers: {shownNumbers.length} shown of {numbers.length}</caption>
            <thead><tr><th scope='col'>PBX</th><th scope='col'>Short number</th><th scope='col'>Internal</th><th scope='col'>Public number</th><th scope='col'>User</th></tr></thead>
            <tbody>{shownNumbers.slice(0, 300).map((n) => <tr key={`${n.pbxId}/${n.shortNumber}`}><td>{n.pbxId}</td><td>{n.shortNumber}</td><td>{n.internalNumber ?? ''}</td><td>{n.number ?? ''}</td><td>{byId.get(n.userId ?? '')?.loginEmail ?? (n.userId ? n.userId : '—')}</td></tr>)}</tbody>
          </table>
        </Scroll>
      )}
    </section>
  )
}
