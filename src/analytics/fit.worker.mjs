// Entry of the thread that fits the comparison model: Node 20 does not pass tsx's loader on to
// worker threads, so the thread registers it before loading the TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./fit.worker.ts');
