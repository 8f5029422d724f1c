import { z } from 'zod';
import { pathId } from './common.js';

export const historyParams = z.strictObject({ id: pathId });

export const historyQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});

export const historyResponse = z.object({
  userId: z.string(),
  items: z.array(
    z.object({
      kind: z.enum(['rating', 'event']),
      itemId: z.string(),
      timestamp: z.string(),
      rating: z.number().optional(),
      type: z.string().optional(),
      value: z.number().optional(),
      eventId: z.string().nullable().optional(),
    }),
  ),
  nextCursor: z.string().nullable(),
});
