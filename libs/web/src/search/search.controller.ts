import {
  AiSearchRequestError,
  AiSearchService,
  EmbeddingProviderError,
  EmbeddingProviderUnavailableError,
  EmbeddingQuotaExceededError,
  EmbeddingRateLimitError,
} from '@ai-infrastructure/core';
import { BadRequestException, Controller, Get, Query, ServiceUnavailableException, UseFilters, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { CurrentAiPrincipal, type AiPrincipal } from '../auth/ai-principal';
import { AiRoutes } from '../auth/ai-route-group.decorator';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { AiSearchThrottlerGuard } from '../throttle/ai-throttler.guard';
import { AiExceptionFilter } from '../errors/ai-exception.filter';
import { ErrorResponseDto } from '../errors/error-response.dto';
import { SearchQueryDto } from './search-query.dto';
import { authorizeSearch, visibleMetadata } from './search-scope';
import { SearchResponseDto } from './search-result.dto';

/**
 * Semantic search over indexed entities. Needs a bearer token of any role (`search` tokens may use only
 * this route) unless `auth.anonymous` lists `search`; throttled per caller (`search.throttle`), since each
 * query costs a provider request; a token's search scope limits the entity types, filters and metadata.
 */
@ApiTags('search')
@ApiBearerAuth()
@AiRoutes('search')
@UseGuards(BearerAuthGuard, AiSearchThrottlerGuard)
@UseFilters(AiExceptionFilter)
@Controller('api/ai/search')
export class SearchController {
  constructor(private readonly search: AiSearchService) {}

  @Get()
  @ApiOperation({ summary: 'Semantic search', description: 'Embeds `q` and returns the nearest entities of `entityType`.' })
  @ApiOkResponse({ type: SearchResponseDto, description: 'The nearest entities, most similar first.' })
  @ApiBadRequestResponse({ description: 'Invalid parameter or unknown entity type; the message names the field.', type: ErrorResponseDto })
  @ApiServiceUnavailableResponse({ description: 'The embedding provider is rate limiting, out of quota or failing; retry later.', type: ErrorResponseDto })
  @ApiUnauthorizedResponse({ description: 'No or an invalid bearer token (unless auth.anonymous opens search).', type: ErrorResponseDto })
  @ApiForbiddenResponse({ description: 'The token\'s search scope excludes this entity type or a filter field; the message lists what it may use.', type: ErrorResponseDto })
  @ApiTooManyRequestsResponse({ description: 'Too many searches from this caller (search.throttle); see Retry-After.', type: ErrorResponseDto })
  async find(@Query() query: SearchQueryDto, @CurrentAiPrincipal() principal: AiPrincipal): Promise<SearchResponseDto> {
    const visible = authorizeSearch(principal, query.entityType, query.filter);
    try {
      const results = await this.search.search({
        entityType: query.entityType,
        query: query.q,
        limit: query.limit,
        threshold: query.threshold,
        filter: query.filter,
      });
      return { entityType: query.entityType, results: visible ? results.map((hit) => ({ ...hit, metadata: visibleMetadata(hit.metadata, visible) })) : results };
    } catch (error) {
      if (error instanceof AiSearchRequestError) throw new BadRequestException(error.message);
      // The query could not be embedded right now: a temporary condition of the provider, not a server bug.
      if (
        error instanceof EmbeddingRateLimitError ||
        error instanceof EmbeddingQuotaExceededError ||
        error instanceof EmbeddingProviderUnavailableError ||
        (error instanceof EmbeddingProviderError && error.retryable)
      ) {
        throw new ServiceUnavailableException(error.message);
      }
      throw error;
    }
  }
}
