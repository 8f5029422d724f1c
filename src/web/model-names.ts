/**
 * The models POST /admin/retrain accepts: `auto` and MODEL_NAMES on the server (the page cannot
 * import server code; test/web/dashboard.test.ts keeps the two lists equal).
 */
export const RETRAIN_MODELS = ['auto', 'ease', 'ials', 'einmf', 'hybrid', 'neumf', 'gmf', 'mlp', 'dmf', 'bpr', 'itemknn', 'pop'];
