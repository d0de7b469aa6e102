// The dispatcher's slots and queue under 1,000 seeded interleavings (this file and the next take half
// each, so vitest runs them on two cores): see test/private/interleaving.ts for what a seed does.
import { interleavingSuite } from '../private/interleaving-suite.ts';

interleavingSuite(1, 500);
