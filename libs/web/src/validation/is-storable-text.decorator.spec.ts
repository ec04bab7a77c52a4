import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, IsOptional, IsString, validate, type ValidationError } from 'class-validator';
import { ListMigrationJobsQueryDto } from '../migration/dto/list-migration-jobs.query.dto';
import { PauseMigrationDto } from '../migration/dto/pause-migration.dto';
import { RetryFailedDto } from '../migration/dto/retry-failed.dto';
import { StartMigrationDto } from '../migration/dto/start-migration.dto';
import { UpdateMigrationDto } from '../migration/dto/update-migration.dto';
import { SearchQueryDto } from '../search/search-query.dto';
import { IS_STORABLE_TEXT, IsStorableText } from './is-storable-text.decorator';

class NoteDto {
  @IsOptional()
  @IsString()
  @IsStorableText()
  note?: unknown;

  @IsOptional()
  @IsStorableText()
  tags?: unknown;
}

const errorsOf = async (plain: object) => validate(plainToInstance(NoteDto, plain));

describe('IsStorableText', () => {
  it('passes well-formed text, lists and objects, and leaves other types to their own rules', async () => {
    expect(await errorsOf({ note: 'Wartung 😀 漢字 \u0001', tags: ['a', { b: ['c'] }, 1, null] })).toEqual([]);
    expect(await errorsOf({ tags: 42 })).toEqual([]);
  });

  it('names the field and where the bad character is, for text, list elements and object keys', async () => {
    const [note] = await errorsOf({ note: 'ab\u0000' });
    expect(note.constraints).toEqual({
      [IS_STORABLE_TEXT]: 'note contains a NUL character (U+0000) at position 2, which PostgreSQL cannot store; remove it',
    });
    const [tags] = await errorsOf({ tags: ['fine', { deep: '\uD800' }] });
    expect(tags.constraints?.[IS_STORABLE_TEXT]).toMatch(/^tags\[1\]\.deep contains an unpaired UTF-16 surrogate \(U\+D800\) at position 0/);
    const [key] = await errorsOf({ tags: { 'k\u0000': 1 } });
    expect(key.constraints?.[IS_STORABLE_TEXT]).toMatch(/^tags has a key "k\\u0000" that contains a NUL character/);
  });
});

/** The request DTOs of the library: every property that can carry text must carry IsStorableText. */
const REQUEST_DTOS: Function[] = [StartMigrationDto, PauseMigrationDto, RetryFailedDto, UpdateMigrationDto, ListMigrationJobsQueryDto, SearchQueryDto];

/** Failing constraints by field path, nested errors included. */
function constraintsByPath(errors: ValidationError[], parent = ''): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const error of errors) {
    const path = parent ? `${parent}.${error.property}` : error.property;
    out.set(path, Object.keys(error.constraints ?? {}));
    for (const [p, c] of constraintsByPath(error.children ?? [], path)) out.set(p, c);
  }
  return out;
}

/** [path, a value holding a NUL for the property's type] for every text-carrying property, nested DTOs included. */
function textProperties(dto: Function, parent = ''): Array<{ path: string; plain: Record<string, unknown> }> {
  const names = [...new Set(getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false).map((m) => m.propertyName))];
  const out: Array<{ path: string; plain: Record<string, unknown> }> = [];
  for (const name of names) {
    // `number | null` is emitted as Object; the property's OpenAPI type says it holds a number, not text.
    const declared = Reflect.getMetadata('swagger/apiModelProperties', dto.prototype, name)?.type;
    const type = declared === Number ? Number : Reflect.getMetadata('design:type', dto.prototype, name);
    const path = parent ? `${parent}.${name}` : name;
    if (type === String) out.push({ path, plain: { [name]: 'x\u0000' } });
    else if (type === Array) out.push({ path, plain: { [name]: ['x\u0000'] } });
    else if (type === Object) out.push({ path, plain: { [name]: { key: 'x\u0000' } } });
    else if (typeof type === 'function' && type !== Number && type !== Boolean) {
      for (const nested of textProperties(type, path)) out.push({ path: nested.path, plain: { [name]: nested.plain } });
    }
  }
  return out;
}

describe('the request DTOs', () => {
  it.each(REQUEST_DTOS.map((dto) => [dto.name, dto] as const))('%s rejects unstorable text in every text, list and object property', async (_name, dto) => {
    for (const { path, plain } of textProperties(dto)) {
      const failing = constraintsByPath(await validate(plainToInstance(dto as new () => object, plain), { whitelist: true, forbidNonWhitelisted: true }));
      expect({ path, constraints: failing.get(path) }).toEqual({ path, constraints: expect.arrayContaining([IS_STORABLE_TEXT]) });
    }
  });

  it('are walked into nested DTOs, lists and objects (so the check above sees every field)', () => {
    const paths = REQUEST_DTOS.flatMap((dto) => textProperties(dto).map((p) => `${dto.name}.${p.path}`));
    expect(paths).toEqual(
      expect.arrayContaining([
        'StartMigrationDto.entityType',
        'StartMigrationDto.filters.ids',
        'StartMigrationDto.filters.createdBefore',
        'PauseMigrationDto.reason',
        'RetryFailedDto.entityIds',
        'ListMigrationJobsQueryDto.status',
        'SearchQueryDto.q',
        'SearchQueryDto.filter',
      ]),
    );
  });
});
