/** A reply to a slash command (its ack or a later `respond`) that only the person who typed it sees. */
export const ephemeral = (text: string) => ({ response_type: 'ephemeral' as const, text });
