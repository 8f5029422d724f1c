import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { CLIENT_TYPES_PATH, clientTypes } from '../../scripts/write-client-types.js';

it('the TypeScript client\'s types are generated from the committed openapi.yaml (run `npm run client:types`)', async () => {
  expect(readFileSync(CLIENT_TYPES_PATH, 'utf8')).toBe(await clientTypes());
});
