import { describe, expect, it } from 'vitest';
import { hasCredential } from '../../../src/app/bull-board.js';

const expected = { user: 'ops', password: 'correct horse: battery' };
const basic = (raw: string) => `Basic ${Buffer.from(raw, 'utf8').toString('base64')}`;

describe('basic-auth check of the queue dashboard', () => {
  it('accepts exactly the configured user and password (a password may hold a colon)', () => {
    expect(hasCredential(basic('ops:correct horse: battery'), expected)).toBe(true);
    expect(hasCredential(`basic   ${Buffer.from('ops:correct horse: battery').toString('base64')}`, expected)).toBe(
      true,
    );
  });

  it('refuses a wrong user, a wrong or partial password, and a missing colon', () => {
    expect(hasCredential(basic('admin:correct horse: battery'), expected)).toBe(false);
    expect(hasCredential(basic('ops:correct horse'), expected)).toBe(false);
    expect(hasCredential(basic('ops:correct horse: battery '), expected)).toBe(false);
    expect(hasCredential(basic('ops'), expected)).toBe(false);
  });

  it('refuses anything that is not Basic credentials', () => {
    expect(hasCredential(undefined, expected)).toBe(false);
    expect(hasCredential('', expected)).toBe(false);
    expect(hasCredential('Bearer xoxb-123', expected)).toBe(false);
    expect(hasCredential('Basic not base64 at all!', expected)).toBe(false);
  });
});
