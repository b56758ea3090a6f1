import { createAgent } from '../../agent.js';
import { NO_MODEL_HELP } from '../../config.js';
import { ConfigError } from '../../errors.js';
import type { AgentEvent } from '../../events.js';
import { createChatModel } from '../../models.js';
import { defineCommand, MODEL_NOTE, USER_OPTION } from '../command.js';
import { printJson } from '../io.js';

export const askCommand = defineCommand({
  name: 'ask',
  summary: 'one conversational turn: recall, answer, remember (needs a model)',
  description: `
Runs one turn of the agent: recalls what it knows about the user, answers (streaming the
reply to stdout), and writes the turn and any new facts back to memory before it exits.
Without --thread a new thread is started; its id is printed on stderr (in --json output).`,
  options: {
    user: { ...USER_OPTION.user, description: 'who is talking', required: true },
    thread: { type: 'string', short: 't', value: 'T', description: 'continue this conversation thread' },
    json: {
      type: 'boolean',
      description: 'print { reply, threadId, recalled, written, toolCalls, usage, latencyMs }',
    },
  },
  positionals: [{ name: '"message"' }],
  notes: MODEL_NOTE,
  async run(context) {
    const user = context.values.user;
    const model = createChatModel(context.config.model);
    if (!model) throw new ConfigError(NO_MODEL_HELP);
    const store = await context.openStore();
    const agent = createAgent({ store, model });
    const thread = context.values.thread;
    const turn = { userId: user, ...(thread ? { threadId: thread } : {}) };
    try {
      if (context.values.json) {
        const result = await agent.chat(context.positionals[0]!, turn);
        context.io.stdout.write(
          printJson({
            reply: result.reply,
            threadId: result.threadId,
            recalled: result.recalled.map((memory) => ({ id: memory.id, text: memory.text })),
            written: [
              ...result.written.episodes.map((episode) => ({ id: episode.id, kind: episode.kind, text: episode.text })),
              ...result.written.facts,
            ],
            toolCalls: result.toolCalls,
            usage: result.usage,
            latencyMs: result.latencyMs,
            ...(result.errors.length > 0 ? { errors: result.errors } : {}),
          }),
        );
        return result.errors.some((error) => error.stage === 'model') ? 1 : 0;
      }
      let failed = false;
      for await (const event of agent.stream(context.positionals[0]!, turn))
        failed = render(event, context.io) || failed;
      return failed ? 1 : 0;
    } finally {
      await store.close();
    }
  },
});

/** Prints one event for a person; true when the model failed. */
function render(
  event: AgentEvent,
  io: { stdout: { write(text: string): unknown }; stderr: { write(text: string): unknown } },
): boolean {
  switch (event.type) {
    case 'text-delta':
      io.stdout.write(event.text);
      return false;
    case 'memory-written':
      for (const fact of event.facts)
        io.stderr.write(
          `${fact.op === 'add' ? 'remembered' : fact.op === 'supersede' ? 'updated' : 'no longer true'}: ${fact.text ?? fact.id}\n`,
        );
      return false;
    case 'error':
      io.stderr.write(`mnemo ask: ${event.message}\n`);
      return event.stage === 'model';
    case 'turn-end':
      if (event.reply) io.stdout.write('\n');
      io.stderr.write(`thread ${event.threadId}\n`);
      return false;
    default:
      return false;
  }
}
