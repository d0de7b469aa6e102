// The second half of the dispatcher's 1,000 seeded interleavings (see dispatcher-interleaving.test.ts).
import { interleavingSuite } from '../private/interleaving-suite.ts';

interleavingSuite(501, 500);
