/**
 * The Block Kit limits Slack enforces, checked the way Slack reports them: one
 * `[ERROR] … [json-pointer:/…]` line per problem, so a view that would be refused in
 * production is refused by the stand-in too.
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const textOf = (value: unknown): string | undefined =>
  isObject(value) && typeof value.text === 'string' ? value.text : undefined;

const tooLong = (max: number, pointer: string): string =>
  `[ERROR] must be less than ${max + 1} characters [json-pointer:${pointer}]`;
const tooMany = (max: number, pointer: string): string =>
  `[ERROR] no more than ${max} items allowed [json-pointer:${pointer}]`;

const MAX_OPTIONS: Record<string, number> = {
  checkboxes: 10,
  radio_buttons: 10,
  static_select: 100,
  multi_static_select: 100,
  overflow: 5,
};

function checkText(problems: string[], value: unknown, max: number, pointer: string): void {
  const text = textOf(value);
  if (text !== undefined && text.length > max) problems.push(tooLong(max, `${pointer}/text`));
}

function checkOptions(problems: string[], options: unknown, pointer: string): void {
  if (!Array.isArray(options)) return;
  options.forEach((option: unknown, i) => {
    if (!isObject(option)) return;
    checkText(problems, option.text, 75, `${pointer}/${i}/text`);
    if (typeof option.value === 'string' && option.value.length > 150)
      problems.push(tooLong(150, `${pointer}/${i}/value`));
  });
}

function checkElement(problems: string[], element: unknown, pointer: string): void {
  if (!isObject(element)) return;
  const type = typeof element.type === 'string' ? element.type : '';
  if (typeof element.action_id === 'string' && element.action_id.length > 255)
    problems.push(tooLong(255, `${pointer}/action_id`));
  if (type === 'button') {
    checkText(problems, element.text, 75, `${pointer}/text`);
    if (typeof element.value === 'string' && element.value.length > 2000)
      problems.push(tooLong(2000, `${pointer}/value`));
  }
  checkText(problems, element.placeholder, 150, `${pointer}/placeholder`);
  const max = MAX_OPTIONS[type];
  if (max !== undefined && Array.isArray(element.options) && element.options.length > max) {
    problems.push(tooMany(max, `${pointer}/options`));
  }
  checkOptions(problems, element.options, `${pointer}/options`);
  checkOptions(problems, element.initial_options, `${pointer}/initial_options`);
  if (isObject(element.initial_option)) checkOptions(problems, [element.initial_option], `${pointer}/initial_option`);
  if (Array.isArray(element.option_groups)) {
    element.option_groups.forEach((group: unknown, g) => {
      if (isObject(group)) checkOptions(problems, group.options, `${pointer}/option_groups/${g}/options`);
    });
  }
}

function checkBlock(problems: string[], block: unknown, pointer: string, blockIds: Set<string>): void {
  if (!isObject(block) || typeof block.type !== 'string') {
    problems.push(`[ERROR] missing required field: type [json-pointer:${pointer}]`);
    return;
  }
  if (typeof block.block_id === 'string') {
    if (block.block_id.length > 255) problems.push(tooLong(255, `${pointer}/block_id`));
    if (blockIds.has(block.block_id)) problems.push(`[ERROR] duplicate block_id [json-pointer:${pointer}/block_id]`);
    blockIds.add(block.block_id);
  }
  switch (block.type) {
    case 'header':
      checkText(problems, block.text, 150, `${pointer}/text`);
      break;
    case 'section':
      checkText(problems, block.text, 3000, `${pointer}/text`);
      if (Array.isArray(block.fields)) {
        if (block.fields.length > 10) problems.push(tooMany(10, `${pointer}/fields`));
        block.fields.forEach((field: unknown, i) => checkText(problems, field, 2000, `${pointer}/fields/${i}`));
      }
      checkElement(problems, block.accessory, `${pointer}/accessory`);
      break;
    case 'actions':
      if (Array.isArray(block.elements)) {
        if (block.elements.length > 25) problems.push(tooMany(25, `${pointer}/elements`));
        block.elements.forEach((element: unknown, i) => checkElement(problems, element, `${pointer}/elements/${i}`));
      }
      break;
    case 'context':
      if (Array.isArray(block.elements) && block.elements.length > 10)
        problems.push(tooMany(10, `${pointer}/elements`));
      break;
    case 'input':
      checkText(problems, block.label, 2000, `${pointer}/label`);
      checkText(problems, block.hint, 2000, `${pointer}/hint`);
      checkElement(problems, block.element, `${pointer}/element`);
      break;
  }
}

function checkBlocks(problems: string[], blocks: unknown, max: number, pointer: string): void {
  if (blocks === undefined) return;
  if (!Array.isArray(blocks)) {
    problems.push(`[ERROR] must be an array [json-pointer:${pointer}]`);
    return;
  }
  if (blocks.length > max) problems.push(tooMany(max, pointer));
  const blockIds = new Set<string>();
  blocks.forEach((block: unknown, i) => checkBlock(problems, block, `${pointer}/${i}`, blockIds));
}

/** Problems with a message's blocks; Slack answers `invalid_blocks` when there are any. */
export function messageBlockProblems(blocks: unknown): string[] {
  const problems: string[] = [];
  checkBlocks(problems, blocks, 50, '/blocks');
  return problems;
}

/** Problems with a modal or Home tab view; Slack answers `invalid_arguments` when there are any. */
export function viewProblems(view: unknown): string[] {
  if (!isObject(view)) return ['[ERROR] missing required field: view [json-pointer:/view]'];
  const problems: string[] = [];
  if (view.type !== 'modal' && view.type !== 'home') {
    problems.push('[ERROR] must be one of modal, home [json-pointer:/view/type]');
  }
  if (view.type === 'modal') {
    if (textOf(view.title) === undefined)
      problems.push('[ERROR] missing required field: title [json-pointer:/view/title]');
    checkText(problems, view.title, 24, '/view/title');
    checkText(problems, view.submit, 24, '/view/submit');
    checkText(problems, view.close, 24, '/view/close');
    const hasInput = Array.isArray(view.blocks) && view.blocks.some((b: unknown) => isObject(b) && b.type === 'input');
    if (hasInput && view.submit === undefined) {
      problems.push('[ERROR] must provide a submit property when using input blocks [json-pointer:/view]');
    }
  }
  if (typeof view.private_metadata === 'string' && view.private_metadata.length > 3000) {
    problems.push(tooLong(3000, '/view/private_metadata'));
  }
  if (typeof view.callback_id === 'string' && view.callback_id.length > 255)
    problems.push(tooLong(255, '/view/callback_id'));
  if (view.blocks === undefined) problems.push('[ERROR] missing required field: blocks [json-pointer:/view/blocks]');
  checkBlocks(problems, view.blocks, 100, '/view/blocks');
  return problems;
}
