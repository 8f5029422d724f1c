import type { ModelsRepository, ServingChoice } from '../db/models-repository.js';
import type { ModelName } from '../models/model.js';
import { bestForAuto } from '../train/promotion.js';

export type ServingTarget = 'auto' | ModelName;

export class NoSuchVersion extends Error {
  constructor(readonly what: string) {
    super(`no ${what}`);
    this.name = 'NoSuchVersion';
  }
}

/**
 * Chooses what serves by default. `auto`: the best active version by validation HR@10, and from
 * then on the promotion rules; a model name pins that type's active version, after activating
 * `version` when one is given. Throws {@link NoSuchVersion} for a version or model with nothing to serve.
 */
export async function chooseServing(models: ModelsRepository, target: ServingTarget, version: string | undefined, setBy: string, now: number): Promise<ServingChoice> {
  if (target === 'auto') {
    await models.setServing({ mode: 'auto', model: bestForAuto(await models.allActive())?.model ?? null, setBy }, now);
    return models.servingChoice();
  }
  if (version !== undefined && !(await models.activate(target, version, now))) throw new NoSuchVersion(`version ${version} of ${target}`);
  if (!(await models.active(target))) throw new NoSuchVersion(`active version of ${target}`);
  await models.setServing({ mode: 'pinned', model: target, setBy }, now);
  return models.servingChoice();
}
