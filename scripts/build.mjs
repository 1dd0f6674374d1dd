// `npm run build`: compiles the product (src/, commands/, views/) with tsc into dist/ and writes
// dist/main.js, the one entry point that `npm start`, the image, compose and Kubernetes run.
// tsc keeps the source tree's shape (dist/src/main.js) because commands/ and views/ sit beside
// src/, so the entry is a one-line module that loads the composition root.
import { spawnSync } from 'node:child_process';
import process from 'node:process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
writeFileSync('dist/main.js', "import './src/main.js';\n");
