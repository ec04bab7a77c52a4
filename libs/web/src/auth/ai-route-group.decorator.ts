import { SetMetadata } from '@nestjs/common';
import type { AiRouteGroup } from '../ai-web.options';

/** Every group of routes the bearer-auth guard tells apart (`anonymous` may open the first three). */
export type AiGuardedRouteGroup = AiRouteGroup | 'auth' | 'migration' | 'audit';

/** @internal Metadata key of {@link AiRoutes}. */
export const AI_ROUTE_GROUP = 'ai:route-group';

/**
 * Names the route group of a controller (or handler) for {@link BearerAuthGuard}: which roles may use it,
 * and whether `auth.anonymous` opens it. A guarded route without a group counts as `migration` (the
 * strictest), so a route added later cannot ship more open than intended.
 */
export const AiRoutes = (group: AiGuardedRouteGroup) => SetMetadata(AI_ROUTE_GROUP, group);
