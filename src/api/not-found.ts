import type { FastifyInstance } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';

/**
 * Answers unknown routes with JSON: 405 with an `Allow` header when the path exists under
 * another method, 404 otherwise. Fastify only knows "not found", so a shadow router records
 * every route as it is added.
 */
export function registerNotFound(app: FastifyInstance): void {
  const shadow = FindMyWay({ ignoreTrailingSlash: false });
  const methods = new Set<string>();
  app.addHook('onRoute', (route) => {
    const list = (Array.isArray(route.method) ? route.method : [route.method]) as HTTPMethod[];
    for (const method of list) {
      if (shadow.hasRoute(method, route.url)) continue;
      shadow.on(method, route.url, () => undefined);
      methods.add(method);
    }
  });
  app.setNotFoundHandler((request, reply) => {
    const url = request.url.split('?')[0];
    const allowed = [...methods].filter((m) => m !== request.method && shadow.find(m as HTTPMethod, url));
    if (allowed.length > 0) {
      return reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send({
          error: `Method ${request.method} not allowed`,
          code: 'method_not_allowed',
          details: [{ path: 'method', message: `allowed: ${allowed.join(', ')}` }],
        });
    }
    return reply.code(404).send({
      error: 'Route not found',
      code: 'route_not_found',
      details: [{ path: 'url', message: `no route ${request.method} ${url}` }],
    });
  });
}
