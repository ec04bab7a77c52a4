import { join, resolve } from 'node:path';
import ts from 'typescript';
import { Repository } from 'typeorm';
import { AICapable, getAICapableOptions } from './ai-capable.decorator';

/**
 * `migrationRepository` is required by the type of `@AICapable`: leaving it out must not compile.
 *
 * Jest runs this file through ts-jest with `isolatedModules: true`, which transpiles without type checking,
 * so the `@ts-expect-error` below is enforced by `tsc --noEmit -p tsconfig.json` (an unused directive is
 * error TS2578) and, inside Jest, by the compiler-API tests that type-check this very file and a probe.
 */
class NoteRepository extends Repository<{ id: string }> {}

// @ts-expect-error migrationRepository is required: an entity that cannot be read in bulk cannot be backfilled.
@AICapable({ entityType: 'x' })
class WithoutRepository {}

@AICapable({ entityType: 'note', migrationRepository: NoteRepository })
class WithRepository {}

// TypeORM's Repository class itself: the entity's standard repository (TypeOrmModule.forFeature users).
@AICapable({ entityType: 'memo', migrationRepository: Repository })
class WithStandardRepository {}

const ROOT = resolve(__dirname, '../../../..');
const PROBE = join(__dirname, '__ai-capable-type-probe__.ts');
const PROBE_SOURCE = `
import { Repository } from 'typeorm';
import { AICapable } from './ai-capable.decorator';

class ProbeRepository extends Repository<{ id: string }> {}

@AICapable({ entityType: 'missing' })
export class Missing {}

@AICapable({ entityType: 'complete', migrationRepository: ProbeRepository })
export class Complete {}
`;

/** Type-checks this spec file and an in-memory probe with the project's compiler options. */
function typeCheck(): { probe: readonly ts.Diagnostic[]; self: readonly ts.Diagnostic[] } {
  const configFile = ts.findConfigFile(ROOT, ts.sys.fileExists, 'tsconfig.json')!;
  const parsed = ts.getParsedCommandLineOfConfigFile(configFile, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  })!;
  const options: ts.CompilerOptions = { ...parsed.options, noEmit: true, incremental: false, tsBuildInfoFile: undefined, composite: false };
  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, ...rest) =>
    resolve(fileName) === PROBE ? ts.createSourceFile(fileName, PROBE_SOURCE, languageVersion, true) : getSourceFile(fileName, languageVersion, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => resolve(fileName) === PROBE || fileExists(fileName);
  const readFile = host.readFile.bind(host);
  host.readFile = (fileName) => (resolve(fileName) === PROBE ? PROBE_SOURCE : readFile(fileName));

  const self = join(__dirname, 'ai-capable.type-test.spec.ts');
  const program = ts.createProgram([PROBE, self], options, host);
  const diagnosticsOf = (file: string) => {
    const source = program.getSourceFiles().find((f) => resolve(f.fileName) === resolve(file));
    if (!source) throw new Error(`${file} is not part of the type-check program.`);
    return ts.getPreEmitDiagnostics(program, source);
  };
  return { probe: diagnosticsOf(PROBE), self: diagnosticsOf(self) };
}

describe('@AICapable type contract', () => {
  let diagnostics: ReturnType<typeof typeCheck>;

  beforeAll(() => {
    diagnostics = typeCheck();
  }, 120_000);

  it('reports a compile error mentioning migrationRepository when it is left out, and only there', () => {
    const messages = diagnostics.probe.map((d) => ({
      line: d.file!.getLineAndCharacterOfPosition(d.start!).line + 1,
      text: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
    }));
    expect(messages).toHaveLength(1);
    const missingLine = PROBE_SOURCE.split('\n').findIndex((l) => l.includes("entityType: 'missing'")) + 1;
    expect(messages[0].line).toBe(missingLine);
    expect(messages[0].text).toContain('migrationRepository');
  });

  it('this file type-checks: its @ts-expect-error is consumed by that same error', () => {
    expect(diagnostics.self.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
  });

  it('records the options at runtime for decorated classes', () => {
    expect(getAICapableOptions(WithRepository)).toEqual({ entityType: 'note', migrationRepository: NoteRepository });
    expect(getAICapableOptions(WithStandardRepository)).toEqual({ entityType: 'memo', migrationRepository: Repository });
    expect(getAICapableOptions(WithoutRepository)).toEqual({ entityType: 'x' });
    expect(getAICapableOptions(class Plain {})).toBeUndefined();
  });
});
