import { describe, expect, it } from 'vitest';
import { isForgetRequest, renderTurn, toMrkdwn, withoutMentions } from '../../src/adapters/slack/render.js';
import { replyEvents } from './loopback.js';

describe('Slack rendering', () => {
  it('turns Markdown into mrkdwn and escapes what could ping or forge links', () => {
    expect(toMrkdwn('## Picks\n**Alien** & [IMDb](https://imdb.com/title/tt0078748/) <@U1> <!here>')).toBe(
      '*Picks*\n*Alien* &amp; <https://imdb.com/title/tt0078748/|IMDb> &lt;@U1&gt; &lt;!here&gt;',
    );
  });

  it('splits a long reply into sections Slack accepts and reports memory writes and failures', () => {
    const long = `${'word '.repeat(700)}\n${'more '.repeat(700)}`;
    const rendered = renderTurn(
      [
        ...replyEvents(long),
        { type: 'memory-written', episodes: [], facts: [{ op: 'add', id: 'f1', text: 'lives in Porto' }] },
        { type: 'error', stage: 'writeBack', code: 'store_failed', message: 'memory write-back failed: disk full' },
      ],
      { userId: 'T1:U1' },
    );
    const sections = rendered.blocks.filter((block) => block.type === 'section') as unknown as Array<{
      text: { text: string };
    }>;
    expect(sections.length).toBe(3);
    for (const section of sections) expect(section.text.text.length).toBeLessThanOrEqual(3000);
    // Nothing lost, no word cut in two.
    const words = sections.flatMap((section) => section.text.text.split(/\s+/).filter(Boolean));
    expect(words).toEqual(long.split(/\s+/).filter(Boolean));
    expect(JSON.stringify(rendered.blocks)).toContain('remembered: lives in Porto');
    expect(JSON.stringify(rendered.blocks)).toContain(':warning: memory write-back failed: disk full');
  });

  it('recognises "forget me" and strips the bot mention', () => {
    for (const text of ['forget me', 'Forget me!', 'please forget about me.', ' FORGET ME '])
      expect(isForgetRequest(text), text).toBe(true);
    for (const text of ['forget my address', 'can you forget me later?', "don't forget me"])
      expect(isForgetRequest(text), text).toBe(false);
    expect(withoutMentions('<@UBOT> hi <@UBOT|mnemo> there', 'UBOT')).toBe('hi there');
  });
});
