// The worklist as other domains use it: a task for an agent.
export { insertTask } from './worklist.repository.ts';
