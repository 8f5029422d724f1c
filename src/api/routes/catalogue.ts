import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { CatalogueRepository, ItemMeta, ItemView, UserView } from '../../db/catalogue-repository.js';
import type { CatalogueChange } from '../../serving/catalogue.js';
import type { CatalogueWrites } from '../../db/thread/database-thread.js';
import { notFound } from '../../errors.js';
import type { FeaturesConfig } from '../../config/features.js';
import { checkFeatures } from '../feature-check.js';
import { bodyErrors, errorResponse } from '../schemas/common.js';
import { erasedUserResponse, itemParams, itemResponse, putItemBody, putItemsBatch, putItemsBody, putItemsResponse, putUserBody, userParams, userResponse } from '../schemas/catalogue.js';

export interface CatalogueRoutesOptions {
  /** Reads and the user-record writes; item writes go through `writes`. */
  catalogue: CatalogueRepository;
  /** Item writes, committed off the event loop. */
  writes: CatalogueWrites;
  /** Serving applies a write to the items it names (`version`: the catalogue's after the write). */
  onChange: (changes: CatalogueChange[], version: number) => void;
  /** Serving drops what it cached for an erased user. */
  onUserErased: (userId: string) => void;
  maxBatchSize: number;
  /** The content-feature schema every item's and user's labels must fit. */
  features: FeaturesConfig;
}

const READ = { scope: 'read' as const };
const WRITE = { scope: 'write' as const };
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const itemView = (v: ItemView) => ({ ...v, availableFrom: iso(v.availableFrom), availableUntil: iso(v.availableUntil), createdAt: new Date(v.createdAt).toISOString(), updatedAt: iso(v.updatedAt) });
const change = (m: ItemMeta): CatalogueChange => ({ itemId: m.itemId, categories: m.categories, labels: m.labels, hidden: m.hidden, availableFrom: m.availableFrom, availableUntil: m.availableUntil });
const userView = (v: UserView) => ({ ...v, createdAt: new Date(v.createdAt).toISOString(), updatedAt: iso(v.updatedAt) });

export const catalogueRoutes: FastifyPluginAsync<CatalogueRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { catalogue, writes } = opts;
  const errors = { 400: errorResponse, 404: errorResponse };

  app.put('/items/:id', { config: WRITE, schema: { params: itemParams, body: putItemBody, response: { 200: itemResponse, ...errors, ...bodyErrors } } }, async (request) => {
    const meta = { itemId: request.params.id, ...request.body };
    checkFeatures(opts.features, 'items', meta.categories, meta.labels, 'body');
    const { version } = await writes.putItems([meta], Date.now());
    opts.onChange([change(meta)], version);
    return itemView((await catalogue.getItem(request.params.id))!);
  });

  app.put('/items', { config: { ...WRITE, batch: putItemsBatch(opts.maxBatchSize) }, schema: { body: putItemsBody(opts.maxBatchSize), response: { 200: putItemsResponse, ...bodyErrors } } }, async (request) => {
    request.body.items.forEach((it, k) => checkFeatures(opts.features, 'items', it.categories, it.labels, `body.items.${k}`));
    const { inserted, updated, version } = await writes.putItems(request.body.items, Date.now());
    opts.onChange(request.body.items.map(change), version);
    return { inserted, updated, ignored: 0 };
  });

  app.get('/items/:id', { config: READ, schema: { params: itemParams, response: { 200: itemResponse, ...errors } } }, async (request) => {
    const item = await catalogue.getItem(request.params.id);
    if (!item) throw notFound('item', 'params.id');
    return itemView(item);
  });

  app.delete('/items/:id', { config: WRITE, schema: { params: itemParams, response: { 200: itemResponse, ...errors } } }, async (request) => {
    const version = await writes.hideItem(request.params.id, Date.now());
    if (version === null) throw notFound('item', 'params.id');
    const item = (await catalogue.getItem(request.params.id))!;
    opts.onChange([change(item)], version);
    return itemView(item);
  });

  app.put('/users/:id', { config: WRITE, schema: { params: userParams, body: putUserBody, response: { 200: userResponse, ...errors, ...bodyErrors } } }, async (request) => {
    checkFeatures(opts.features, 'users', [], request.body.labels, 'body');
    await catalogue.putUsers([{ userId: request.params.id, labels: request.body.labels }], Date.now());
    return userView((await catalogue.getUser(request.params.id))!);
  });

  // Erasure destroys data nobody can restore, so it is an admin operation, unlike the writes above.
  app.delete(
    '/users/:id',
    {
      config: { scope: 'admin' },
      schema: { params: userParams, response: { 200: erasedUserResponse, ...errors } },
    },
    async (request) => {
      const erased = await catalogue.eraseUser(request.params.id);
      if (!erased) throw notFound('user', 'params.id');
      opts.onUserErased(request.params.id);
      request.log.info({ erased }, 'user erased');
      return { userId: request.params.id, erased };
    },
  );

  app.get('/users/:id', { config: READ, schema: { params: userParams, response: { 200: userResponse, ...errors } } }, async (request) => {
    const user = await catalogue.getUser(request.params.id);
    if (!user) throw notFound('user', 'params.id');
    return userView(user);
  });
};
