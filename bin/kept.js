#!/usr/bin/env node
// The CLI runs the TypeScript sources through tsx, so a clone needs no separate build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
