import { openPglite } from '../src/db/pglite.ts'
import { migrate } from '../src/db/migrate.ts'
let t = Date.now()
const db = await openPglite()
console.log('open', Date.now() - t); t = Date.now()
await migrate(db)
console.log('migrate', Date.now() - t, process.memoryUsage().rss / 1e6)
t = Date.now()
const dump = await db.pglite.dumpDataDir('none')
console.log('dump', Date.now() - t, dump.size)
t = Date.now()
const db2 = await openPglite(undefined, dump)
console.log('load', Date.now() - t, (await db2.query('select count(*) from schema_migrations')))
