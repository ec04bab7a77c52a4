import { Controller, Get, Header, UseFilters, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { AiExceptionFilter } from '../errors/ai-exception.filter';
import { ErrorResponseDto } from '../errors/error-response.dto';
import { CurrentAiPrincipal, type AiPrincipal } from './ai-principal';
import { AiSessionDto } from './ai-session.dto';
import { AiRoutes } from './ai-route-group.decorator';
import { BearerAuthGuard } from './bearer-auth.guard';

/**
 * `GET /api/ai/auth/me`: the name and role of the presented token, so a client (the migration dashboard,
 * a script) can check a token and show only what its role may do, without trying a change.
 */
@ApiTags('auth')
@ApiBearerAuth()
@AiRoutes('auth')
@UseGuards(BearerAuthGuard)
@UseFilters(AiExceptionFilter)
@Controller('api/ai/auth')
export class AiAuthController {
  @Get('me')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Who this token is', description: 'The token\'s name and role (admin or viewer). Any valid token.' })
  @ApiOkResponse({ type: AiSessionDto })
  @ApiUnauthorizedResponse({ description: 'No or an invalid bearer token.', type: ErrorResponseDto })
  me(@CurrentAiPrincipal() principal: AiPrincipal): AiSessionDto {
    return { name: principal.name, role: principal.role };
  }
}
