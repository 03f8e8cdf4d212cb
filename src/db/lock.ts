import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../shared/errors.ts';

export interface LockOwner {
  pid: number;
  command: string;
  port?: number;
  since: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite has no lock between processes, so Kept holds one: a file naming the owner, created
 * exclusively. A lock left by a process that no longer runs is taken over.
 */
export function acquireDataLock(dataDir: string, owner: Omit<LockOwner, 'pid' | 'since'>): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'kept.lock');
  const me: LockOwner = { pid: process.pid, since: new Date().toISOString(), ...owner };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        try {
          const current = JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
          if (current.pid === process.pid) fs.unlinkSync(file);
        } catch {
          // already gone
        }
      };
      process.once('exit', release);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder: LockOwner | undefined;
      try {
        holder = JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
      } catch {
        holder = undefined;
      }
      if (holder && alive(holder.pid) && holder.pid !== process.pid) {
        const where = holder.port ? ` (kept ${holder.command} on port ${holder.port})` : ` (kept ${holder.command})`;
        throw new AppError(
          'database_locked',
          `The embedded database in ${dataDir} is in use by process ${holder.pid}${where} since ${holder.since}. ` +
            'Stop that process first, or send data to the running server (POST /api/v1/events, or Import in the web UI).',
          { holder },
        );
      }
      fs.rmSync(file, { force: true }); // stale: its process is gone
    }
  }
  throw new AppError('database_locked', `Could not take the lock on ${dataDir}`);
}
