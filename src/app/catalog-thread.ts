import { parentPort, workerData } from 'node:worker_threads';
import { CatalogInvalid } from '../errors.js';
import { loadCatalog } from '../runbook/catalog.js';

/** Thread entry of `loadCatalogApart`: reads and validates the catalog, posts it (or the problems) back. */

export type CatalogReply =
  { ok: true; catalog: Awaited<ReturnType<typeof loadCatalog>> } | { ok: false; problems?: string[]; message: string };

const { file } = workerData as { file: string };
loadCatalog(file).then(
  (catalog) => parentPort?.postMessage({ ok: true, catalog } satisfies CatalogReply),
  (error: unknown) =>
    parentPort?.postMessage({
      ok: false,
      problems: error instanceof CatalogInvalid ? error.problems : undefined,
      message: error instanceof Error ? error.message : String(error),
    } satisfies CatalogReply),
);
