/**
 * `ezrouter://answers/{id}`: a whole answer kept in the answer store (one too long for the
 * client's result budget, or a background job's), read a page at a time: `?offset=N`
 * (characters, default 0) returns the text from N within the reader's budget, with
 * `contents[0]._meta.next_offset` while more remains, so the pages concatenate to exactly the
 * answer. An unknown or expired id is -32602 saying so. Not listed: the ids come in results.
 */
import type { ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import type { HandlerContext } from '../context.js';
import { ANSWERS_URI, messageBytes, prefixWithin } from '../mapping/fit-result.js';
import { malformedResourceUri, resourceNotFound } from '../mapping/resource-errors.js';
import type { ResourceDirectory } from './directory.js';

export const ANSWER_URI_TEMPLATE = `${ANSWERS_URI}/{id}`;
const TEXT_MIME = 'text/plain';

export function addAnswerResources(directory: ResourceDirectory, ctx: HandlerContext): void {
  directory.addTemplate({
    name: 'answer',
    uriTemplate: ANSWER_URI_TEMPLATE,
    title: 'A stored ezrouter answer',
    description: 'The whole text of an answer that did not fit in one tool result (or of a background job), paged with ?offset=N (characters); _meta.next_offset says where the next page starts.',
    mimeType: TEXT_MIME,
    read: async (uri, variables, query) => {
      const raw = query.get('offset') ?? '0';
      if (!/^\d{1,12}$/.test(raw)) throw malformedResourceUri(uri, '`offset` must be a whole number of characters, e.g. ?offset=0');
      const offset = Number(raw);
      const answer = await ctx.answers.get(variables['id'] ?? '');
      if (!answer) {
        throw resourceNotFound(uri, `No stored answer has this id: it expired (answers are kept ${Math.round(ctx.config.answerTtlMs / 60_000)} minutes) or was never issued; ask the model again.`);
      }
      const total = answer.text.length;
      if (offset > total) throw malformedResourceUri(uri, `offset ${offset} is past the end of the answer (${total} characters)`);
      const page = (text: string, next: number | undefined): ReadResourceResult => ({
        contents: [{ uri, mimeType: TEXT_MIME, text, _meta: { offset, total_chars: total, ...(next === undefined ? {} : { next_offset: next }) } }],
      });
      const rest = answer.text.slice(offset);
      const room = ctx.limits().resultBytes - messageBytes(page('', total));
      const text = prefixWithin(rest, Math.max(1024, room));
      const end = offset + text.length;
      return page(text, end < total ? end : undefined);
    },
  });
}
