import {
  AiSearchRequestError,
  AiSearchService,
  EmbeddingProviderError,
  EmbeddingProviderUnavailableError,
  EmbeddingQuotaExceededError,
  EmbeddingRateLimitError,
} from '@ai-infrastructure/core';
import { BadRequestException, Controller, Get, Query, ServiceUnavailableException, UseFilters } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { AiExceptionFilter } from '../errors/ai-exception.filter';
import { ErrorResponseDto } from '../errors/error-response.dto';
import { SearchQueryDto } from './search-query.dto';
import { SearchResponseDto } from './search-result.dto';

/** Semantic search over indexed entities. */
@ApiTags('search')
@UseFilters(AiExceptionFilter)
@Controller('api/ai/search')
export class SearchController {
  constructor(private readonly search: AiSearchService) {}

  @Get()
  @ApiOperation({ summary: 'Semantic search', description: 'Embeds `q` and returns the nearest entities of `entityType`.' })
  @ApiOkResponse({ type: SearchResponseDto, description: 'The nearest entities, most similar first.' })
  @ApiBadRequestResponse({ description: 'Invalid parameter or unknown entity type; the message names the field.', type: ErrorResponseDto })
  @ApiServiceUnavailableResponse({ description: 'The embedding provider is rate limiting, out of quota or failing; retry later.', type: ErrorResponseDto })
  async find(@Query() query: SearchQueryDto): Promise<SearchResponseDto> {
    try {
      const results = await this.search.search({
        entityType: query.entityType,
        query: query.q,
        limit: query.limit,
        threshold: query.threshold,
        filter: query.filter,
      });
      return { entityType: query.entityType, results };
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
