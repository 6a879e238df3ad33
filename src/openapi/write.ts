import { openApiDocument } from './document.js'
import { writeOrCheck } from './committed-file.js'

writeOrCheck(new URL('../../openapi/openapi.json', import.meta.url), await openApiDocument(), 'npm run openapi')
