import type { FeaturesConfig } from '../config/features.js';
import { readFeatureFile, type EntityFeatures } from '../data/feature-files.js';
import type { Interactions } from '../data/interactions.js';
import { withContentFeatures, type CatalogueFacts } from '../features/attach.js';
import type { BackendInfo } from '../models/backend.js';
import { coldStartEvaluation } from '../train/cold-start.js';
import type { TrainRequest } from '../train/trainer.js';

/** Item and user feature files (u.item / u.user, CSV, NDJSON) as the catalogue facts the job would read. */
export async function featureFiles(items: string | undefined, users: string | undefined): Promise<CatalogueFacts | null> {
  if (!items && !users) return null;
  const read = async (path: string | undefined): Promise<Map<string, EntityFeatures>> => {
    if (!path) return new Map();
    const { features, format, errors } = await readFeatureFile(path);
    process.stderr.write(`${path}: ${format}, ${features.size} entries, ${errors.length} bad lines\n`);
    for (const e of errors.slice(0, 10)) process.stderr.write(`  line ${e.line}: ${e.message}\n`);
    return features;
  };
  const [i, u] = [await read(items), await read(users)];
  return { categoriesOf: (id) => i.get(id)?.categories ?? [], labelsOf: (id) => i.get(id)?.labels ?? {}, userLabelsOf: (id) => u.get(id)?.labels ?? {} };
}

/** The data with content features when feature files were given. */
export function withFacts(data: Interactions, features: FeaturesConfig, facts: CatalogueFacts | null): Interactions {
  return facts ? withContentFeatures(data, features, facts) : data;
}

const m = (x: { 'HR@10': number; 'NDCG@10': number } | null): string => (x ? `HR@10 ${x['HR@10'].toFixed(4)}  NDCG@10 ${x['NDCG@10'].toFixed(4)}` : 'n/a (the model reads no content features)');

/** `recflow train --cold-items SHARE`: the cold-start protocol, printed or as JSON. */
export async function runColdStart(data: Interactions, request: TrainRequest, backend: BackendInfo, share: number, features: FeaturesConfig, facts: CatalogueFacts | null, json: boolean): Promise<void> {
  const report = await coldStartEvaluation(data, request, backend, { share, seed: request.seed ?? 42, features, facts: facts ?? { categoriesOf: () => [], labelsOf: () => ({}), userLabelsOf: () => ({}) } });
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...report, warm: { test: report.warm.test, valid: report.warm.valid } }, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `cold start: ${report.coldItems} items held out (${Math.round(share * 100)}%), ${report.cases} (user, cold item) cases\n` +
      `  ${request.model.padEnd(14)} ${m(report.model)}\n  features only  ${m(report.featuresOnly)}\n  random         ${m(report.random)}\n` +
      `warm (leave-one-out, 99 negatives): HR@10 ${report.warm.test['HR@10'].toFixed(4)}  NDCG@10 ${report.warm.test['NDCG@10'].toFixed(4)}\n`,
  );
}
