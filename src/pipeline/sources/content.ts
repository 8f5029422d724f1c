import type { SourceConfig } from '../../config/pipeline.js';
import type { ContentIndex } from '../../serving/content-index.js';
import type { CandidateItem, RequestContext } from '../context.js';
import type { CandidateSource, Proposal, SourceAnswer } from './source.js';

type ItemToItemConfig = Extract<SourceConfig, { type: 'item-to-item' }>;

/**
 * `item-to-item` with `method: content`: items whose categories and labels resemble those of the
 * user's most recent positive items (TF-IDF cosine, mean over the recent items), by external id,
 * so items no model knows yet take part. Cost: recentItems content queries (each bounded by the
 * content index's postings cap).
 */
export class ContentSource implements CandidateSource {
  private readonly memo = new WeakMap<RequestContext, Map<string, { score: number; because: string[] }>>();

  constructor(
    readonly name: string,
    readonly config: ItemToItemConfig,
    private readonly content: ContentIndex | null,
  ) {}

  private scores(ctx: RequestContext): Map<string, { score: number; because: string[] }> {
    let found = this.memo.get(ctx);
    if (found) return found;
    found = new Map();
    const recent = ctx.positives.slice(0, this.config.recentItems).map((h) => h.item).filter((id) => this.content?.has(id));
    for (const from of recent) {
      for (const s of this.content!.similarTo(from, this.config.candidates, ctx.skip)) {
        const e = found.get(s.itemId) ?? { score: 0, because: [] };
        e.score += s.score / recent.length;
        if (e.because.length < 3) e.because.push(from);
        found.set(s.itemId, e);
      }
    }
    this.memo.set(ctx, found);
    return found;
  }

  propose(ctx: RequestContext, n: number): SourceAnswer {
    if (!this.content) return { items: [], note: 'no content index' };
    const found = this.scores(ctx);
    if (found.size === 0) return { items: [], note: 'no recent positive item with content features' };
    const items: Proposal[] = [...found].sort((a, b) => b[1].score - a[1].score || (a[0] < b[0] ? -1 : 1)).slice(0, n).map(([itemId, e]) => ({ itemId, score: e.score, because: e.because }));
    return { items };
  }

  scoreItems(ctx: RequestContext, items: readonly CandidateItem[]): Float32Array {
    const found = this.content ? this.scores(ctx) : new Map<string, { score: number }>();
    return Float32Array.from(items, (c) => found.get(c.itemId)?.score ?? 0);
  }
}
