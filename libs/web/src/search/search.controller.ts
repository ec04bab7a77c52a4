import { AiSearchRequestError, AiSearchService } from '@ai-infrastructure/core';
import { BadRequestException, Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SearchQueryDto } from './search-query.dto';
import { SearchResponseDto } from './search-result.dto';

/** Semantic search over indexed entities. */
@ApiTags('search')
@Controller('api/ai/search')
export class SearchController {
  constructor(private readonly search: AiSearchService) {}

  @Get()
  @ApiOperation({ summary: 'Semantic search', description: 'Embeds `q` and returns the nearest entities of `entityType`.' })
  @ApiOkResponse({ type: SearchResponseDto })
  @ApiBadRequestResponse({ description: 'Invalid parameter or unknown entity type; the message names the field.' })
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
      throw error;
    }
  }
}
