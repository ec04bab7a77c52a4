export { CurrentAiPrincipal, type AiPrincipal } from './ai-principal';
export { BearerAuthGuard } from './bearer-auth.guard';
