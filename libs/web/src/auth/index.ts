export { CurrentAiPrincipal, type AiPrincipal } from './ai-principal';
export { AiSessionDto } from './ai-session.dto';
export { BearerAuthGuard } from './bearer-auth.guard';
