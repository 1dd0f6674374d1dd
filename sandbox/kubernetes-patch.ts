/** The patch content types the API server accepts for built-in resources (apply is left out). */
export const PATCH_TYPES = [
  'application/strategic-merge-patch+json',
  'application/merge-patch+json',
  'application/json-patch+json',
] as const;
export type PatchType = (typeof PATCH_TYPES)[number];

export const isPatchType = (value: string): value is PatchType => (PATCH_TYPES as readonly string[]).includes(value);

/** A patch the server refuses: 400 for a malformed document, 422 for one that cannot apply. */
export class PatchError extends Error {
  constructor(
    readonly code: 400 | 422,
    message: string,
  ) {
    super(message);
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Lists that strategic merge treats as maps, by field name, with their merge key (the
 * `patchMergeKey` of the Go types). Every other list is replaced whole, as in a merge patch.
 */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  ports: 'containerPort',
  volumes: 'name',
  volumeMounts: 'mountPath',
  imagePullSecrets: 'name',
};

/** RFC 7386: objects merge key by key, `null` deletes, anything else (lists too) replaces. */
const mergePatch = (target: Json | undefined, patch: Json): Json => {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
};

const strategicList = (current: Json[], patch: Json[], field: string, key: string): Json[] => {
  if (patch.some((item) => isObject(item) && item.$patch === 'replace')) {
    return patch
      .filter((item) => !(isObject(item) && item.$patch === 'replace'))
      .map((item) => strategicMerge(undefined, item));
  }
  const result = [...current];
  for (const item of patch) {
    if (!isObject(item)) throw new PatchError(400, `${field}: a list item must be an object`);
    const id = item[key];
    if (id === undefined)
      throw new PatchError(422, `map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`);
    const index = result.findIndex((existing) => isObject(existing) && existing[key] === id);
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = strategicMerge(result[index], item);
    } else {
      result.push(strategicMerge(undefined, item));
    }
  }
  return result;
};

/**
 * Strategic merge as the API server does it for the fields a deploy tool touches: lists named
 * in MERGE_KEYS merge by key, `$patch: replace|delete` directives apply, and kubectl's
 * bookkeeping directives (`$setElementOrder/…`, `$retainKeys`) are accepted and ignored.
 */
const strategicMerge = (target: Json | undefined, patch: Json): Json => {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) && patch.$patch !== 'replace' ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    const mergeKey = MERGE_KEYS[key];
    const existing = out[key];
    if (value === null) delete out[key];
    else if (mergeKey && Array.isArray(value))
      out[key] = strategicList(Array.isArray(existing) ? existing : [], value, key, mergeKey);
    else out[key] = strategicMerge(existing, value);
  }
  return out;
};

const parsePointer = (path: unknown): string[] => {
  if (typeof path !== 'string' || (path !== '' && !path.startsWith('/')))
    throw new PatchError(422, `invalid JSON pointer: ${String(path)}`);
  return path === ''
    ? []
    : path
        .slice(1)
        .split('/')
        .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
};

/** The container of the pointer's last token, and that token. */
const locate = (root: Json, tokens: string[], path: string): { parent: JsonObject | Json[]; last: string } => {
  let node: Json | undefined = root;
  for (const token of tokens.slice(0, -1)) {
    node = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
    if (node === undefined) throw new PatchError(422, `jsonpatch: path ${path} does not exist`);
  }
  if (!Array.isArray(node) && !isObject(node)) throw new PatchError(422, `jsonpatch: path ${path} does not exist`);
  return { parent: node, last: tokens[tokens.length - 1] ?? '' };
};

const arrayIndex = (array: Json[], token: string, path: string, forAdd: boolean): number => {
  if (forAdd && token === '-') return array.length;
  const index = /^(0|[1-9][0-9]*)$/.test(token) ? Number(token) : NaN;
  if (Number.isNaN(index) || index > array.length || (!forAdd && index === array.length)) {
    throw new PatchError(422, `jsonpatch: index ${token} out of range at ${path}`);
  }
  return index;
};

/** RFC 6902 with the operations a deploy tool uses: add, remove, replace and test. */
const jsonPatch = (target: Json, operations: Json): Json => {
  if (!Array.isArray(operations)) throw new PatchError(400, 'json patch must be a list of operations');
  let doc = structuredClone(target);
  for (const operation of operations) {
    if (!isObject(operation)) throw new PatchError(400, 'json patch operation must be an object');
    const { op, path: rawPath, value } = operation;
    const path = String(rawPath);
    const tokens = parsePointer(rawPath);
    if (op === 'test') {
      const { parent, last } = tokens.length ? locate(doc, tokens, path) : { parent: [doc], last: '0' };
      const actual = Array.isArray(parent) ? parent[Number(last)] : parent[last];
      if (JSON.stringify(actual) !== JSON.stringify(value))
        throw new PatchError(422, `jsonpatch: test operation failed at ${path}`);
      continue;
    }
    if (op !== 'add' && op !== 'remove' && op !== 'replace')
      throw new PatchError(422, `jsonpatch: unsupported operation ${String(op)}`);
    if (op !== 'remove' && value === undefined) throw new PatchError(422, `jsonpatch: ${op} at ${path} has no value`);
    if (tokens.length === 0) {
      if (op === 'remove') throw new PatchError(422, 'jsonpatch: cannot remove the whole document');
      doc = structuredClone(value as Json);
      continue;
    }
    const { parent, last } = locate(doc, tokens, path);
    if (Array.isArray(parent)) {
      const index = arrayIndex(parent, last, path, op === 'add');
      if (op === 'add') parent.splice(index, 0, structuredClone(value as Json));
      else if (op === 'remove') parent.splice(index, 1);
      else parent[index] = structuredClone(value as Json);
    } else {
      if (op !== 'add' && !(last in parent)) throw new PatchError(422, `jsonpatch: path ${path} does not exist`);
      if (op === 'remove') delete parent[last];
      else parent[last] = structuredClone(value as Json);
    }
  }
  return doc;
};

/** The object after applying `body` (the raw request body) as a patch of the given type. */
export const applyPatch = (type: PatchType, target: unknown, body: string): unknown => {
  let patch: Json;
  try {
    patch = JSON.parse(body) as Json;
  } catch (error) {
    throw new PatchError(400, `couldn't get version/kind; json parse error: ${(error as Error).message}`);
  }
  const current = structuredClone(target) as Json;
  if (type === 'application/json-patch+json') return jsonPatch(current, patch);
  if (!isObject(patch)) throw new PatchError(400, 'patch must be a JSON object');
  return type === 'application/merge-patch+json' ? mergePatch(current, patch) : strategicMerge(current, patch);
};
