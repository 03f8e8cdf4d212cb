import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder of Kept's package.json. Files that ship beside the code (the migrations, the built UI)
 * are found from here, so the same code finds them as sources (src/, through tsx) and as the build
 * (dist/server/, whose chunks sit at another depth).
 */
export const packageRoot = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json in ${start} or above it`);
  }
}
