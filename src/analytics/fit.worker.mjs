// Entry of the thread that fits the comparison model when Kept runs as sources (tests, `npm run dev`):
// Node 20 does not pass tsx's loader on to worker threads, so the thread registers it before loading
// the TypeScript. The build needs no loader: it compiles the thread to dist/server/fit.worker.js.
import { register } from 'tsx/esm/api';

register();
await import('./fit.worker.ts');
