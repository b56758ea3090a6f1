import { randomUUID } from 'node:crypto';
import { userScope, validateScope } from '../../../memory/index.js';
import { openServices } from '../../services.js';
import { defineCommand, MODEL_NOTE, USER_OPTION } from '../command.js';
import { progressBar } from '../io.js';

export const chatCommand = defineCommand({
  name: 'chat',
  summary: 'talk with the agent in the terminal (slash commands work without a model)',
  description: `
Opens the terminal chat (when stdin is not a terminal, it reads one message or slash command
per line and answers in plain text): the reply streams as it arrives, memories recalled and written
show as short lines, and a status line shows the user, the model, memory counts and the
last turn's latency and tokens. Without a model configured the chat still opens and the
slash commands work; a message is then kept in memory, unanswered.

Enter sends; a pasted text is one message, line breaks and all (Alt+Enter or Ctrl+J adds one).
You can type while a reply streams; it is sent with Enter once the reply is done.

Commands inside the chat:
  /help                 list the commands
  /remember TEXT        store a fact about you
  /memories             what mnemo knows about you (with ids)
  /forget ID            delete one memory; /forget all deletes everything about you
  /search QUERY         search your memories
  /recommend [WHAT]     items you may like, each with why
  /rate ITEM STARS      rate a catalog item (id or title) 1 to 5
  /persona              your taste group and what it likes
  /export               write everything about you to a JSON file in the data directory
  /user NAME            talk as someone else
  /quit                 leave (Ctrl+C too; Esc cancels a reply in progress)`,
  options: {
    user: { ...USER_OPTION.user, description: 'who is talking (default: $MNEMO_USER, else your OS user name)' },
    thread: {
      type: 'string',
      short: 't',
      value: 'T',
      description: 'continue this conversation thread (default: a new one)',
    },
  },
  positionals: [],
  notes: MODEL_NOTE,
  async run(context) {
    const userId = context.values.user?.trim() || context.config.user;
    validateScope(userScope(userId));
    const thread = context.values.thread;
    const threadId = typeof thread === 'string' && thread.trim() !== '' ? thread.trim() : randomUUID();
    const { stdin, stdout, stderr } = context.io as unknown as {
      stdin: NodeJS.ReadStream;
      stdout: NodeJS.WriteStream;
      stderr: NodeJS.WriteStream;
    };
    const terminal = Boolean(stdin.isTTY && stdout.isTTY);
    // The first run builds the word-vector cache (seconds): show it before Ink takes the screen.
    const bar = progressBar(context.io, 'preparing word vectors (first run only)');
    const services = await openServices(context.config, {
      onProgress: ({ done, total }) => bar.update(done, total),
    });
    bar.finish();
    try {
      if (!terminal) {
        // A pipe or a script: one line in, plain text out, the same commands and events.
        const { runLineChat } = await import('../../adapters/line/run.js');
        await runLineChat({
          input: context.io.stdin,
          output: context.io.stdout,
          memory: services.memory,
          recommender: services.recommender,
          agent: services.agent,
          userId,
          threadId,
          exportDir: context.config.dataDir,
        });
        return;
      }
      // Ink draws only the final frame when CI or CONTINUOUS_INTEGRATION is set, and reads them once, on
      // import. On a real terminal a person is typing, so they want the live chat whatever their shell exports.
      delete process.env.CI;
      delete process.env.CONTINUOUS_INTEGRATION;
      // Loaded only now, so `mnemo --help` and every other command never load ink and react.
      const { runChat } = await import('../../adapters/tui/run.js');
      await runChat({
        stdin,
        stdout,
        stderr,
        memory: services.memory,
        recommender: services.recommender,
        agent: services.agent,
        userId,
        threadId,
        modelName: context.config.model.kind === 'openai' ? context.config.model.model : undefined,
        exportDir: context.config.dataDir,
      });
    } finally {
      await services.close();
    }
  },
});
