import { recordLegs } from './legs.js'

recordLegs()
