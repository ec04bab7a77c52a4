export { AiRoutes, type AiGuardedRouteGroup } from './ai-route-group.decorator';
export { CurrentAiPrincipal, type AiPrincipal } from './ai-principal';
export { AiSessionDto } from './ai-session.dto';
export { BearerAuthGuard } from './bearer-auth.guard';
