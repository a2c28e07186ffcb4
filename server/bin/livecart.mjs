#!/usr/bin/env node
// Runs the compiled server from build/ (`npm run build`): plain JavaScript, no TypeScript compiler at
// run time. Development runs the sources directly instead: `npm run dev` (tsx, restarts on changes).
import { existsSync } from 'node:fs';

const main = new URL('../../build/server/src/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('livecart: no compiled server in build/ (run `npm run build` first; `npm start` builds and starts)\n');
  process.exit(1);
}
await import(main.href);
