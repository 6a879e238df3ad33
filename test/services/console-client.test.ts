import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApplicationService } from '../../src/services/applications.js'
import { deriveSecretsKey } from '../../src/services/app-credentials.js'
import { CONSOLE_CLIENT_ID, consoleRedirectUris, registerConsoleClient } from '../../src/services/console-client.js'
import { dbKinds, openTestDb, type TestDb } from '../helpers/databases.js'
import { TEST_SECRETS_KEY } from '../helpers/app.js'

describe('the console\'s redirect URIs', () => {
  it('are the loopback addresses of the port it listens on, and PUBLIC_URL\'s', () => {
    expect(consoleRedirectUris(undefined, { host: '127.0.0.1', port: 8080 })).toEqual({
      uris: ['http://127.0.0.1:8080/console/', 'http://localhost:8080/console/'], refused: [],
    })
    expect(consoleRedirectUris('https://prov.example.com/', { host: '0.0.0.0', port: 8080 }).uris).toEqual([
      'https://prov.example.com/console/', 'http://127.0.0.1:8080/console/', 'http://localhost:8080/console/',
    ])
    expect(consoleRedirectUris('https://prov.example.com', { host: '10.0.0.5', port: 8080 }).uris).toEqual(['https://prov.example.com/console/'])
  })

  it('leave out a plain-http public address, which no redirect URI may be, and name it', () => {
    expect(consoleRedirectUris('http://prov.example.com', { host: '10.0.0.5', port: 80 })).toEqual({ uris: [], refused: ['http://prov.example.com/console/'] })
  })
})

for (const kind of dbKinds()) {
  describe(`registering the console as a public OAuth client [${kind}]`, () => {
    let testDb: TestDb
    let applications: ReturnType<typeof createApplicationService>
    beforeAll(async () => {
      testDb = await openTestDb(kind)
      applications = createApplicationService({ db: testDb.db, secretsKey: deriveSecretsKey(TEST_SECRETS_KEY) })
    })
    afterAll(() => testDb.close())

    it('creates it once, public, and adds the URIs of later starts without losing the earlier ones', async () => {
      const first = ['http://127.0.0.1:8080/console/', 'http://localhost:8080/console/']
      await Promise.all([registerConsoleClient(applications, first), registerConsoleClient(applications, first)])
      const client = await applications.findClient(CONSOLE_CLIENT_ID)
      expect(client).toMatchObject({ id: CONSOLE_CLIENT_ID, redirectUris: first, clientSecretHash: null })
      expect(client!.oauthScopes).toEqual(['massprovisioning', 'massprovisioning:read'])

      expect(await registerConsoleClient(applications, ['http://127.0.0.1:9090/console/'])).toEqual([...first, 'http://127.0.0.1:9090/console/'])
      expect(await registerConsoleClient(applications, first)).toEqual(['http://127.0.0.1:9090/console/', ...first])
      expect((await applications.findClient(CONSOLE_CLIENT_ID))!.redirectUris).toHaveLength(3)
      expect(await registerConsoleClient(applications, [])).toEqual([])
    })

    it('keeps only the 20 newest redirect URIs', async () => {
      for (let port = 10_000; port < 10_025; port++) await registerConsoleClient(applications, [`http://127.0.0.1:${port}/console/`])
      const uris = (await applications.findClient(CONSOLE_CLIENT_ID))!.redirectUris
      expect(uris).toHaveLength(20)
      expect(uris.at(-1)).toBe('http://127.0.0.1:10024/console/')
      expect(uris).not.toContain('http://127.0.0.1:10004/console/')
    })
  })
}
