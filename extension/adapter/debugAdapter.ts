// Standalone entry: `node dist/debugAdapter.js` speaks DAP on stdin/stdout to any client.
import { LoopscopeSession } from './session';

LoopscopeSession.run(LoopscopeSession);
