import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CatalogInvalid } from '../errors.js';
import { loadCatalog, type Catalog } from '../runbook/catalog.js';
import type { CatalogReply } from './catalog-thread.js';

/**
 * `loadCatalog(file)` in a short-lived thread: parsing and validating a large catalog (YAML
 * of a few hundred services) allocates tens of MiB that V8 would keep as heap for the life of
 * the process; in a thread of its own that heap goes when the thread ends, and only the plain
 * catalog is copied back. Errors are the same `CatalogInvalid` problems.
 */
export async function loadCatalogApart(file: string): Promise<Catalog> {
  // Run from source through a loader such as tsx, which a worker thread does not inherit, the
  // thread could not load catalog-thread.ts: read the catalog here instead.
  if (extname(fileURLToPath(import.meta.url)) !== '.js') return loadCatalog(file);
  const entry = new URL('./catalog-thread.js', import.meta.url);
  const thread = new Worker(entry, { workerData: { file } });
  try {
    const reply = await new Promise<CatalogReply>((resolve, reject) => {
      thread.once('message', resolve);
      thread.once('error', reject);
      thread.once('exit', (code) => reject(new Error(`the catalog thread exited (${code}) before answering`)));
    });
    if (reply.ok) return reply.catalog;
    if (reply.problems) throw new CatalogInvalid(reply.problems);
    throw new Error(reply.message);
  } finally {
    await thread.terminate();
  }
}
