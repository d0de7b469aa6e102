import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Every construct prop and public property the package exports reads like aws-cdk-lib's: a summary
 * line, `@default` on each optional prop, and `@see` to the AWS documentation or the README section.
 * The source is parsed, not type-checked, so the test reads only lib/constructs.
 */

const CONSTRUCTS = new URL('../../lib/constructs/', import.meta.url);

/** Reads a file of lib/constructs by its path there; the failing cases below give their own. */
type Read = (file: string) => string;
const readConstructs: Read = (file) => readFileSync(new URL(file, CONSTRUCTS), 'utf8');

function parse(read: Read, file: string): ts.SourceFile {
  return ts.createSourceFile(file, read(file), ts.ScriptTarget.ES2022, true);
}

/** The names lib/constructs/index.ts exports, by the file that declares them. */
function exportedNames(read: Read): Map<string, string[]> {
  const byFile = new Map<string, string[]>();
  for (const statement of parse(read, 'index.ts').statements) {
    if (!ts.isExportDeclaration(statement) || !statement.moduleSpecifier) continue;
    const from = (statement.moduleSpecifier as ts.StringLiteral).text;
    if (!from.startsWith('./')) continue;
    // `export *` would hide what it exports from the check below.
    if (!statement.exportClause || !ts.isNamedExports(statement.exportClause))
      throw new Error(`index.ts: export the names of ${from} one by one, not with export *`);
    const names = statement.exportClause.elements.map(
      (element) => (element.propertyName ?? element.name).text,
    );
    byFile.set(from.slice(2), [...(byFile.get(from.slice(2)) ?? []), ...names]);
  }
  return byFile;
}

interface Doc {
  readonly summary: string;
  readonly tags: ReadonlySet<string>;
}

function docOf(node: ts.Node): Doc | undefined {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const doc = docs.at(-1);
  if (doc === undefined) return undefined;
  return {
    summary: (ts.getTextOfJSDocComment(doc.comment) ?? '').trim(),
    tags: new Set((doc.tags ?? []).map((tag) => tag.tagName.text)),
  };
}

function isPublic(member: ts.ClassElement): boolean {
  if (ts.isConstructorDeclaration(member) || ts.isClassStaticBlockDeclaration(member)) return false;
  if (member.name === undefined || ts.isPrivateIdentifier(member.name)) return false;
  const flags = ts.getCombinedModifierFlags(member as ts.Declaration);
  // An override is documented where it is declared, as `Error.name` is.
  if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected | ts.ModifierFlags.Override))
    return false;
  return !ts.getJSDocTags(member).some((tag) => tag.tagName.text === 'internal');
}

/** What each exported interface member and public class member lacks, as `Type.member: problem`. */
function missingDocs(read: Read = readConstructs): string[] {
  const problems: string[] = [];
  const check = (where: string, node: ts.Node, optional: boolean) => {
    const doc = docOf(node);
    const lacks = [
      ...(doc?.summary ? [] : ['a summary']),
      ...(optional && !doc?.tags.has('default') ? ['@default'] : []),
      ...(doc?.tags.has('see') ? [] : ['@see']),
    ];
    if (lacks.length > 0) problems.push(`${where}: lacks ${lacks.join(', ')}`);
  };
  for (const [file, names] of exportedNames(read)) {
    for (const statement of parse(read, file).statements) {
      if (!(ts.isInterfaceDeclaration(statement) || ts.isClassDeclaration(statement))) continue;
      const name = statement.name?.text;
      if (name === undefined || !names.includes(name)) continue;
      if (!docOf(statement)?.summary) problems.push(`${file} ${name}: lacks a summary`);
      if (ts.isInterfaceDeclaration(statement)) {
        for (const member of statement.members) {
          const memberName = member.name?.getText() ?? '(unnamed)';
          check(`${file} ${name}.${memberName}`, member, member.questionToken !== undefined);
        }
      } else {
        for (const member of statement.members.filter(isPublic)) {
          const memberName = member.name?.getText() ?? '(unnamed)';
          const optional = ts.isPropertyDeclaration(member) && member.questionToken !== undefined;
          check(`${file} ${name}.${memberName}`, member, optional);
        }
      }
    }
  }
  return problems;
}

describe('construct docs', () => {
  it('gives every exported prop and public member a summary, @default when optional, and @see', () => {
    expect(missingDocs()).toEqual([]);
  });

  it('finds the members of every construct the index exports', () => {
    // Guards the check above against passing because it found nothing to check.
    const exported = [...exportedNames(readConstructs).values()].flat();
    expect(exported).toEqual(
      expect.arrayContaining(['Pipeline', 'PipelineProps', 'StepwisePlatform', 'LedgerTable']),
    );
  });

  it('fails when a prop or member lacks its summary, @default or @see', () => {
    const files: Record<string, string> = {
      'index.ts': "export { Thing, type ThingProps } from './thing.ts';\n",
      'thing.ts': `
        /** Props of a thing. */
        export interface ThingProps {
          /**
           * How big.
           * @default 1
           * @see README.md
           */
          readonly size?: number;
          /** How heavy. */
          readonly weight?: number;
          readonly name: string;
        }
        /** A thing. */
        export class Thing {
          /**
           * Its name.
           * @see README.md
           */
          readonly name = 'x';
          readonly hidden = 1;
          private readonly secret = 2;
        }
      `,
    };
    expect(missingDocs((file) => files[file] as string)).toEqual([
      'thing.ts ThingProps.weight: lacks @default, @see',
      'thing.ts ThingProps.name: lacks a summary, @see',
      'thing.ts Thing.hidden: lacks a summary, @see',
    ]);
  });

  it('fails when the index exports a file with export *, whose names it would not check', () => {
    const files: Record<string, string> = { 'index.ts': "export * from './thing.ts';\n" };
    expect(() => missingDocs((file) => files[file] as string)).toThrow(
      'index.ts: export the names of ./thing.ts one by one, not with export *',
    );
  });
});
