import type { PipelineConfig } from '../../config/pipeline.js';
import { ItemToItemSource } from './item-to-item.js';
import type { LeaderboardBook } from './leaderboards.js';
import { LatestSource, LeaderboardSource } from './lists.js';
import { ModelSource } from './model.js';
import type { CandidateSource } from './source.js';
import { ContentSource } from './content.js';
import type { ContentIndex } from '../../serving/content-index.js';
import { UserToUserSource } from './user-to-user.js';

/** Every configured source, by name. */
export function buildSources(pipeline: PipelineConfig, book: LeaderboardBook, content: ContentIndex | null = null): Map<string, CandidateSource> {
  const sources = new Map<string, CandidateSource>();
  for (const [name, config] of Object.entries(pipeline.sources)) {
    switch (config.type) {
      case 'model':
        sources.set(name, new ModelSource(name, config));
        break;
      case 'item-to-item':
        sources.set(name, config.method === 'content' ? new ContentSource(name, config, content) : new ItemToItemSource(name, config));
        break;
      case 'user-to-user':
        sources.set(name, new UserToUserSource(name, config));
        break;
      case 'latest':
        sources.set(name, new LatestSource(name, config, book));
        break;
      case 'leaderboard':
        sources.set(name, new LeaderboardSource(name, config, book));
        break;
    }
  }
  return sources;
}
