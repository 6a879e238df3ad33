import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { scenarioFolder } from './postman-scenario.js'
import { writeOrCheck } from './committed-file.js'

// Generated from the committed OpenAPI document; `--check` fails when the committed collection is stale.
const require = createRequire(import.meta.url)
const converter = require('openapi-to-postmanv2') as {
  convert: (input: { type: 'json', data: unknown }, options: Record<string, unknown>, cb: (err: Error | null, result: { result: boolean, reason?: string, output: Array<{ data: Record<string, unknown> }> }) => void) => void
}
const openapi = JSON.parse(readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8')) as unknown
const target = new URL('../../openapi/massprov.postman_collection.json', import.meta.url)

const converted = await new Promise<Record<string, unknown>>((resolve, reject) => {
  converter.convert({ type: 'json', data: openapi }, { folderStrategy: 'Tags', schemaFaker: false, parametersResolution: 'Schema', includeAuthInfoInExample: false },
    (err, result) => {
      if (err || !result.result) reject(err ?? new Error(result.reason))
      else resolve(result.output[0]!.data)
    })
})

/** The converter stamps random ids and picks random enum values for example answers; drop both so the file only changes when the API does. */
function withoutIds (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutIds)
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'id' && k !== '_postman_id' && k !== 'response').map(([k, v]) => [k, withoutIds(v)]))
  }
  return value
}

const reference = withoutIds(converted) as { info: Record<string, unknown>, item: unknown[], variable?: unknown[] }
const collection = {
  info: { ...reference.info, _postman_id: '6d1f1c2e-6a55-4d47-9b0e-6d61737370726f' },
  auth: { type: 'bearer', bearer: [{ key: 'token', value: '{{token}}', type: 'string' }] },
  variable: [
    { key: 'baseUrl', value: 'http://127.0.0.1:8080' },
    { key: 'email', value: '' },
    { key: 'password', value: '' },
    { key: 'token', value: '' },
  ],
  item: [scenarioFolder(), ...reference.item],
}
const fresh = JSON.stringify(collection, null, 2) + '\n'

writeOrCheck(target, fresh, 'npm run postman')
